import { Command } from 'commander';
import { HELP_GROUPS, helpAfter, type CommandContext, type CommandSpec } from './command-spec.js';
import { accessCommand } from './commands/access.js';
import { addServerCommand } from './commands/add-server.js';
import { clientsCommand } from './commands/clients.js';
import { completionCommand } from './commands/completion.js';
import { doctorCommand } from './commands/doctor.js';
import { downCommand } from './commands/down.js';
import { githubCommand } from './commands/github-register.js';
import { imagesCommand } from './commands/images.js';
import { initCommand } from './commands/init.js';
import { keysCommand } from './commands/keys-rotate.js';
import { listCommand } from './commands/list.js';
import { logsCommand } from './commands/logs.js';
import { reloadCommand } from './commands/reload.js';
import { removeServerCommand } from './commands/remove-server.js';
import { renderCommand } from './commands/render.js';
import { runtimeCommand } from './commands/runtime.js';
import { serveCommand } from './commands/serve.js';
import { smokeCommand } from './commands/smoke.js';
import { statusCommand } from './commands/status.js';
import { tokenCommand } from './commands/token-issue.js';
import { tokensCommand } from './commands/tokens.js';
import { connectionsCommand } from './commands/connections.js';
import { upCommand } from './commands/up.js';
import { processOutput, type CliOutput } from './output.js';
import { packageVersion } from './package-info.js';
import { runCli } from './run-cli.js';

/**
 * The program, assembled from the commands' specs (cli/commands/X.ts). A spec imports no more
 * than commander; what a command does is imported only when it runs, so `--help` starts fast.
 * Listed in the order `--help` shows them within their group.
 */
const COMMANDS: readonly CommandSpec[] = [
  initCommand,
  githubCommand,
  serveCommand,
  doctorCommand,
  completionCommand,
  addServerCommand,
  removeServerCommand,
  listCommand,
  accessCommand,
  renderCommand,
  upCommand,
  downCommand,
  imagesCommand,
  statusCommand,
  logsCommand,
  reloadCommand,
  smokeCommand,
  keysCommand,
  clientsCommand,
  tokensCommand,
  connectionsCommand,
  tokenCommand,
  runtimeCommand,
];

const QUICK_START = `
Quick start:
  mcp-gateway serve --demo          try it: a demo server, one-time-code login, no GitHub needed
  mcp-gateway init                  create mcp-gateway.yaml and the secrets (asks for what it needs)
  mcp-gateway github register       create the GitHub App users log in with
  mcp-gateway add-server time       add an MCP server from the catalog
  mcp-gateway serve                 run the gateway in this process (or: mcp-gateway up, with Docker)
  mcp-gateway doctor                check everything and say what to fix

Exit codes: 0 success, 1 error, 2 usage error. MCP_GATEWAY_DEBUG=1 shows stack traces of unexpected errors.`;

export function buildProgram(output: CliOutput = processOutput): Command {
  const program = new Command('mcp-gateway')
    .description('Self-host MCP servers behind an OAuth 2.1 gateway: one login for remote MCP clients (Claude, ChatGPT, Cursor, VS Code, ...).')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    // Throw instead of process.exit so the one top-level catch decides the exit code (usage = 2).
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.stdout(text),
      writeErr: (text) => output.stderr(text),
    })
    .addHelpText('after', QUICK_START);
  const context: CommandContext = { output, program };
  // commander prints the groups in the order their first command was added.
  const ordered = [...COMMANDS].sort((a, b) => groupRank(a) - groupRank(b));
  for (const spec of ordered) addCommand(program, spec, context);
  // `help` is listed under the first heading. Made after the commands: a subcommand copies its
  // parent's help command when created, and theirs stays under "Commands:".
  program.commandsGroup(heading(HELP_GROUPS[0])).helpCommand(true);
  addUsageHints(program, 'mcp-gateway');
  return program;
}

function heading(group: string): string {
  return `${group}:`;
}

function groupRank(spec: CommandSpec): number {
  return spec.group === undefined ? HELP_GROUPS.length : HELP_GROUPS.indexOf(spec.group);
}

/** `parent.command()` rather than `new Command()`: a subcommand inherits exitOverride, the output and the help option. */
function addCommand(parent: Command, spec: CommandSpec, context: CommandContext): void {
  const command = parent.command(spec.name, { hidden: spec.hidden === true }).description(spec.description);
  if (spec.group !== undefined) command.helpGroup(heading(spec.group));
  for (const argument of spec.arguments ?? []) command.addArgument(argument);
  for (const option of spec.options ?? []) command.addOption(option);
  if (spec.notes !== undefined || spec.examples !== undefined) command.addHelpText('after', () => helpAfter(spec));
  for (const sub of spec.subcommands ?? []) addCommand(command, sub, context);
  const { action } = spec;
  if (action !== undefined) {
    command.action(async () => {
      await action(command.processedArgs, command.opts(), context);
    });
  }
}

/**
 * After commander's one-line usage error ("error: unknown option '--x'"), point at the help of
 * the command that failed. Set per command: each must name itself.
 */
function addUsageHints(command: Command, path: string): void {
  command.showHelpAfterError(`hint: see ${path} --help`);
  for (const sub of command.commands) addUsageHints(sub, `${path} ${sub.name()}`);
}

/** Entry point used by bin/mcp-gateway.js; sets process.exitCode rather than exiting, so output flushes. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  const args = argv.slice(2);
  const endOfOptions = args.indexOf('--');
  const json = (endOfOptions === -1 ? args : args.slice(0, endOfOptions)).includes('--json');
  process.exitCode = await runCli(() => program.parseAsync(argv), {
    stderr: (text) => processOutput.stderr(text),
    debug: process.env['MCP_GATEWAY_DEBUG'] === '1',
    json: json ? { stdout: (text) => processOutput.stdout(text) } : undefined,
  });
}
