import { Argument, Option } from 'commander';
import type * as action from '../actions/add-server.js';
import { catalogSummaries } from '../catalog.js';
import { collect, commaList, dirOption, jsonOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { urlFlag } from '../url-flag.js';

/** `mcp-gateway add-server NAME`: a catalog server, a stdio command or a remote URL, into mcp-gateway.yaml. */
export const runAddServer: typeof action.runAddServer = async (...args) => (await import('../actions/add-server.js')).runAddServer(...args);

export const addServerCommand = defineCommand({
  name: 'add-server',
  group: 'Servers',
  description: 'Add an MCP server (from the catalog, any stdio command, or a remote Streamable HTTP URL) behind the gateway',
  arguments: [new Argument('<name>', 'a catalog name, or any name together with --command or --url; it becomes the endpoint path /NAME/mcp')],
  options: [
    dirOption(),
    new Option('--command <command line>', 'the command that starts the server over stdio, e.g. "npx -y @scope/server --flag"; run without a shell'),
    // No default ([]) so the help does not print "(default: [])"; the command treats absent as none.
    new Option('--env <NAME=VALUE>', 'environment variable for the server (repeatable)').argParser(collect),
    new Option('--url <url>', 'proxy a remote Streamable HTTP MCP server at this URL instead of running a command (https, or http on loopback)').argParser(
      urlFlag,
    ),
    new Option('--aggregate <servers>', 'one endpoint for these configured servers, comma-separated: their tools become <server>__<tool>').argParser(commaList),
    new Option(
      '--header <NAME=VALUE>',
      'static header sent to the remote server with --url, e.g. "Authorization=Bearer sk-..." (repeatable; values are stored in .secrets/, 0600)',
    ).argParser(collect),
    new Option('--oauth', "with --url: the server has its own OAuth; each user authorizes it once, the gateway keeps and refreshes that user's tokens"),
    new Option('--scope <scope>', 'with --oauth: a scope to ask of the upstream (repeatable; default: what its metadata lists)').argParser(collect),
    new Option(
      '--client-id <id>',
      'with --oauth: a client you registered at the upstream, when it offers neither client metadata documents nor dynamic registration',
    ),
    new Option('--client-secret-env <VAR>', "with --client-id: the environment variable holding that client's secret (stored in .secrets/, 0600)"),
    new Option('--description <text>', 'one line saying what the server does'),
    new Option(
      '--mount <path[:ro]>',
      'a host directory or file the sandboxed server may use besides its own data directory; add :ro for read-only (repeatable)',
    ).argParser(collect),
    new Option('--network <mode>', 'none: the server gets no network at all').choices(['none']),
    new Option(
      '--sandbox <mode>',
      'on (the default: project directory hidden, the rest read-only), strict (reads only system directories, its program and its mounts) or off (unsandboxed, at your own risk)',
    ).choices(['on', 'strict', 'off']),
    new Option('--force', 'replace a server of the same name'),
    jsonOption('the entry written, its endpoint and the command that applies it'),
  ],
  notes: () => `Catalog (the reference servers of modelcontextprotocol/servers):
${catalogSummaries()
  .map(({ name, summary }) => `  ${name.padEnd(21)} ${summary}`)
  .join('\n')}`,
  examples: [
    'mcp-gateway add-server time',
    'mcp-gateway add-server filesystem --dir ./gw',
    'mcp-gateway add-server notes --command "npx -y @modelcontextprotocol/server-filesystem /srv/notes" --mount /srv/notes --network none',
    'mcp-gateway add-server github --command "npx -y @modelcontextprotocol/server-github" --env GITHUB_PERSONAL_ACCESS_TOKEN=ghp_...',
    'mcp-gateway add-server docs --url https://mcp.example.com/mcp --header "Authorization=Bearer sk-..."',
    'mcp-gateway add-server linear --url https://mcp.linear.app/mcp --oauth',
    'LINEAR_SECRET=... mcp-gateway add-server linear --url https://mcp.linear.app/mcp --oauth --client-id abc123 --client-secret-env LINEAR_SECRET',
    'mcp-gateway add-server team --aggregate fs,time,memory',
  ],
  action: ([name]: [string], flags: Flags<action.AddServerOptions>, { output }) => runAddServer({ ...flags, name, dir: projectDir(flags) }, { output }),
});
