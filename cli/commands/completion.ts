import { Argument, Option } from 'commander';
import type * as action from '../actions/completion.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { COMPLETION_SHELLS, type CompletionShell } from '../completion/completion-shells.js';

/** `mcp-gateway completion bash|zsh|fish`: the script, generated from the program's command tree. */
export const runCompletion: typeof action.runCompletion = async (...args) => (await import('../actions/completion.js')).runCompletion(...args);

export const completionCommand = defineCommand({
  name: 'completion',
  group: 'Getting started',
  description: 'Print the shell completion script for bash, zsh or fish',
  arguments: [new Argument('[shell]', 'bash, zsh or fish').choices(COMPLETION_SHELLS)],
  options: [new Option('--servers', 'print the configured server names (what the scripts call)').hideHelp(), dirOption().hideHelp()],
  notes: `Install (then open a new shell):
  bash  source <(mcp-gateway completion bash)   in ~/.bashrc, or:
        mcp-gateway completion bash > ~/.local/share/bash-completion/completions/mcp-gateway
  zsh   mcp-gateway completion zsh > "\${fpath[1]}/_mcp-gateway"   (compinit must run in ~/.zshrc), or:
        source <(mcp-gateway completion zsh)   in ~/.zshrc, after compinit
  fish  mcp-gateway completion fish > ~/.config/fish/completions/mcp-gateway.fish

Commands, options and their choices are completed; server names (remove-server, logs, --server) are
read from the project of --dir, or of the current directory.`,
  action: ([shell]: [CompletionShell | undefined], flags: Flags<action.CompletionOptions>, { output, program }) =>
    runCompletion({ ...flags, ...(shell === undefined ? {} : { shell }), dir: projectDir(flags) }, { output, program }),
});
