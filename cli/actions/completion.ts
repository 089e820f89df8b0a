import type { Command } from 'commander';
import { loadConfig } from '../../runtime/config/load-config.js';
import { GatewayError } from '../../runtime/errors.js';
import { bashScript } from '../completion/bash-script.js';
import { completionModel } from '../completion/completion-model.js';
import type { CompletionShell } from '../completion/completion-shells.js';
import { fishScript } from '../completion/fish-script.js';
import { zshScript } from '../completion/zsh-script.js';
import type { CliOutput } from '../output.js';

export interface CompletionOptions {
  shell?: CompletionShell | undefined;
  /** The scripts' own lookup: print the configured server names of `dir`, one a line. */
  servers?: boolean | undefined;
  dir: string;
}

export interface CompletionDeps {
  output: CliOutput;
  /** The program whose commands are completed (the one being run). */
  program: Command;
}

/** `mcp-gateway completion bash|zsh|fish`: the script on stdout, generated from the program's command tree. */
export async function runCompletion(options: CompletionOptions, deps: CompletionDeps): Promise<void> {
  const { output, program } = deps;
  if (options.servers) {
    // Runs on every TAB: a missing or broken config completes nothing rather than printing an error into the prompt.
    const names = await loadConfig(options.dir).then(
      (config) => Object.keys(config.servers).sort(),
      () => [],
    );
    if (names.length > 0) output.stdout(`${names.join('\n')}\n`);
    return;
  }
  if (options.shell === undefined) {
    throw new GatewayError('ERR_USAGE', 'name the shell: mcp-gateway completion bash|zsh|fish', {
      hint: 'see mcp-gateway completion --help for how to install the script',
    });
  }
  const model = completionModel(program);
  const name = program.name();
  const script = options.shell === 'bash' ? bashScript(model, name) : options.shell === 'zsh' ? zshScript(model, name) : fishScript(model, name);
  output.stdout(script);
}
