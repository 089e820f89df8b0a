import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { catalogSummaries } from './catalog.js';
import { processOutput, type CliOutput } from './output.js';
import { packageVersion } from './package-info.js';
import { runCli } from './run-cli.js';
import type { InitOptions } from './commands/init.js';

/** Each command module is imported only when its command runs, so `--help` and `list` start fast. */

interface DirFlag {
  dir: string;
}

/** commander's parsed init flags are exactly init's options (a type-only import keeps init lazily loaded). */
type InitFlags = InitOptions;

interface AddServerFlags extends DirFlag {
  command?: string;
  url?: string;
  header?: string[];
  env?: string[];
  description?: string;
  mount?: string[];
  network?: 'none';
  sandbox?: 'on' | 'strict' | 'off';
  force?: boolean;
}

interface ServeFlags extends DirFlag {
  listen?: string;
  demo?: boolean;
}

interface TokenIssueFlags extends DirFlag {
  user: string;
  server: string;
  ttl: string;
}

function dirOption(): Option {
  return new Option('--dir <path>', 'project directory holding mcp-gateway.yaml').default('.', 'the current directory');
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

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
    .addHelpText(
      'after',
      `
Quick start:
  mcp-gateway serve --demo          try it: a demo server, one-time-code login, no GitHub needed
  mcp-gateway init                  create mcp-gateway.yaml and the secrets (asks for what it needs)
  mcp-gateway github register       create the GitHub App users log in with
  mcp-gateway add-server time       add an MCP server from the catalog
  mcp-gateway serve                 run the gateway in this process (or: mcp-gateway up, with Docker)
  mcp-gateway doctor                check everything and say what to fix

Exit codes: 0 success, 1 error, 2 usage error. MCP_GATEWAY_DEBUG=1 shows stack traces of unexpected errors.`,
    );

  program
    .command('init')
    .description('Create mcp-gateway.yaml, the GitHub client secret and a token signing key in a project directory')
    .addOption(dirOption())
    .option('-y, --yes', 'never ask: a missing required value is an error (for scripts and CI)')
    .option('--force', 'overwrite an existing mcp-gateway.yaml (the signing key is kept, so issued tokens stay valid)')
    .option('--public-url <url>', 'the URL clients connect to; https, or http on a loopback host (e.g. http://127.0.0.1:8080)')
    .addOption(
      new Option('--provider <type>', 'how users log in: github (a GitHub App or OAuth app; the default), oidc (any OpenID Connect provider) or local (a one-time code printed by the gateway)').choices([
        'github',
        'oidc',
        'local',
      ]),
    )
    .option('--github-client-id <id>', 'client ID of your GitHub OAuth app or GitHub App (omit to run `mcp-gateway github register` next)')
    .addOption(
      new Option('--github-client-secret <secret>', 'client secret of your GitHub OAuth app; prefer the environment variable, which stays out of shell history').env(
        'MCP_GATEWAY_GITHUB_CLIENT_SECRET',
      ),
    )
    .option('--github-url <url>', 'GitHub base URL, for GitHub Enterprise Server (default: https://github.com)')
    .option('--allowed-users <logins>', 'comma-separated logins that may sign in, e.g. alice,bob (OpenID Connect: verified email addresses or subjects)', commaList)
    .option('--github-orgs <orgs>', 'comma-separated GitHub organizations whose members may sign in (asks GitHub for read:org)', commaList)
    .option('--github-teams <teams>', 'comma-separated GitHub teams as org/team-slug whose members may sign in', commaList)
    .option('--oidc-issuer <url>', 'OpenID Connect issuer URL, with --provider oidc (e.g. https://accounts.google.com)')
    .option('--oidc-client-id <id>', 'client ID registered at the OpenID provider')
    .addOption(new Option('--oidc-client-secret <secret>', 'client secret at the OpenID provider; omit for a public client').env('MCP_GATEWAY_OIDC_CLIENT_SECRET'))
    .option('--email-domains <domains>', 'comma-separated domains whose verified addresses may sign in (OpenID Connect)', commaList)
    .option('--listen <host:port>', 'address the gateway listens on (default: derived from the public URL by serve)')
    .option('--domain <domain>', 'the Docker deployment\'s domain: public URL https://DOMAIN unless --public-url, and the base of NAME.DOMAIN with --routing subdomain')
    .option('--email <email>', "Let's Encrypt account e-mail for Traefik's certificates (deploy.email)")
    .addOption(new Option('--router <router>', 'Docker deployment: traefik (HTTPS with Let\'s Encrypt; the default) or builtin (our router, plain HTTP behind your own TLS)').choices(['traefik', 'builtin']))
    .addOption(new Option('--routing <style>', 'where each server lives: path (https://DOMAIN/NAME/mcp; the default) or subdomain (https://NAME.DOMAIN/mcp)').choices(['path', 'subdomain']))
    .addHelpText(
      'after',
      `
Without --yes, init asks for missing values when run in a terminal. The client secret is written to
.secrets/github-client-secret (mode 0600), never to mcp-gateway.yaml or the screen; a new signing key goes to
.secrets/signing-keys.json. The project's .gitignore is made to ignore .secrets/ and .mcp-gateway/.
${examples([
  'mcp-gateway init',
  'MCP_GATEWAY_GITHUB_CLIENT_SECRET=... mcp-gateway init --yes --dir ./gw \\',
  '    --public-url https://mcp.example.com --github-client-id Iv1.0123abcd --allowed-users alice,bob',
  'mcp-gateway init --yes --provider local --public-url http://127.0.0.1:8080 --allowed-users alice',
  'mcp-gateway init --yes --domain mcp.example.com --email ops@example.com --github-client-id Iv1.0123abcd --allowed-users alice',
])}`,
    )
    .action(async (flags: InitFlags) => {
      const { runInit } = await import('./commands/init.js');
      await runInit({ ...flags, dir: resolve(flags.dir) }, { output });
    });

  program
    .command('add-server')
    .description('Add an MCP server (from the catalog, any stdio command, or a remote Streamable HTTP URL) behind the gateway')
    .argument('<name>', 'a catalog name, or any name together with --command or --url; it becomes the endpoint path /NAME/mcp')
    .addOption(dirOption())
    .option('--command <command line>', 'the command that starts the server over stdio, e.g. "npx -y @scope/server --flag"; run without a shell')
    // No default ([]) so the help does not print "(default: [])"; the command treats absent as none.
    .option('--env <NAME=VALUE>', 'environment variable for the server (repeatable)', collect)
    .option('--url <url>', 'proxy a remote Streamable HTTP MCP server at this URL instead of running a command (https, or http on loopback)')
    .option('--header <NAME=VALUE>', 'static header sent to the remote server with --url, e.g. "Authorization=Bearer sk-..." (repeatable; values are stored in .secrets/, 0600)', collect)
    .option('--description <text>', 'one line saying what the server does')
    .option('--mount <path[:ro]>', 'a host directory or file the sandboxed server may use besides its own data directory; add :ro for read-only (repeatable)', collect)
    .addOption(new Option('--network <mode>', 'none: the server gets no network at all').choices(['none']))
    .addOption(new Option('--sandbox <mode>', 'on (the default: project directory hidden, the rest read-only), strict (reads only system directories, its program and its mounts) or off (unsandboxed, at your own risk)').choices(['on', 'strict', 'off']))
    .option('--force', 'replace a server of the same name')
    .addHelpText(
      'after',
      () =>
        `
Catalog (the reference servers of modelcontextprotocol/servers):
${catalogSummaries()
  .map(({ name, summary }) => `  ${name.padEnd(21)} ${summary}`)
  .join('\n')}
${examples([
  'mcp-gateway add-server time',
  'mcp-gateway add-server filesystem --dir ./gw',
  'mcp-gateway add-server notes --command "npx -y @modelcontextprotocol/server-filesystem /srv/notes" --mount /srv/notes --network none',
  'mcp-gateway add-server github --command "npx -y @modelcontextprotocol/server-github" --env GITHUB_PERSONAL_ACCESS_TOKEN=ghp_...',
  'mcp-gateway add-server docs --url https://mcp.example.com/mcp --header "Authorization=Bearer sk-..."',
])}`,
    )
    .action(async (name: string, flags: AddServerFlags) => {
      const { runAddServer } = await import('./commands/add-server.js');
      await runAddServer({ ...flags, name, dir: resolve(flags.dir) }, { output });
    });

  program
    .command('reload')
    .description('Make a running `mcp-gateway serve` apply mcp-gateway.yaml (servers, allowlist) and rotated signing keys now, without a restart')
    .addOption(dirOption())
    .addHelpText(
      'after',
      `
serve also reloads by itself when mcp-gateway.yaml changes. Servers added, removed or changed
start or stop; the others keep their sessions. A config that would not load is refused and the
old one keeps serving. publicUrl, listen, provider, store, tokens, clients and deploy need a restart.
${examples(['mcp-gateway reload', 'mcp-gateway reload --dir ./gw'])}`,
    )
    .action(async (flags: DirFlag) => {
      const { runReload } = await import('./commands/reload.js');
      await runReload({ dir: resolve(flags.dir) }, { output });
    });

  program
    .command('remove-server')
    .description('Remove an MCP server from the gateway config')
    .argument('<name>', 'the configured server name')
    .addOption(dirOption())
    .addHelpText('after', examples(['mcp-gateway remove-server time', 'mcp-gateway remove-server fetch --dir ./gw']))
    .action(async (name: string, flags: DirFlag) => {
      const { runRemoveServer } = await import('./commands/remove-server.js');
      await runRemoveServer({ name, dir: resolve(flags.dir) }, { output });
    });

  program
    .command('list')
    .description('List the configured servers with their endpoint URLs and commands')
    .addOption(dirOption())
    .option('--json', 'print one JSON document { publicUrl, servers: [{ name, endpoint, command, args, description, url? }] } and nothing else')
    .addHelpText('after', examples(['mcp-gateway list', 'mcp-gateway list --json | jq -r ".servers[].endpoint"']))
    .action(async (flags: DirFlag & { json?: boolean }) => {
      const { runList } = await import('./commands/list.js');
      await runList({ dir: resolve(flags.dir), json: flags.json ?? false }, { output });
    });

  program
    .command('serve')
    .description('Run the gateway: router, OAuth authorization server and one bridge per MCP server, in one process')
    .addOption(dirOption())
    .option('--listen <host:port>', 'address to listen on (overrides listen in mcp-gateway.yaml)')
    .option('--demo', 'zero-configuration demo: a built-in demo server, login by a one-time code, loopback only, no GitHub needed')
    .addHelpText(
      'after',
      `
serve needs no Docker and keeps its state in <dir>/.mcp-gateway/. Stop it with Ctrl+C.
${examples(['mcp-gateway serve --demo', 'mcp-gateway serve --dir ./gw', 'mcp-gateway serve --listen 0.0.0.0:8080'])}`,
    )
    .action(async (flags: ServeFlags) => {
      const { runServe } = await import('./commands/serve.js');
      await runServe(
        {
          dir: resolve(flags.dir),
          ...(flags.listen === undefined ? {} : { listen: flags.listen }),
          ...(flags.demo === undefined ? {} : { demo: flags.demo }),
        },
        output,
      );
    });

  const token = program.command('token').description('Issue bearer tokens without a browser login');
  token
    .command('issue')
    .description("Print a bearer token that NAME's endpoint accepts, for CI smoke checks")
    .addOption(dirOption())
    .requiredOption('--user <login>', 'the login the token is issued to (must be an allowed user)')
    .requiredOption('--server <name>', 'the server whose endpoint the token is for (its audience)')
    .option('--ttl <duration>', 'lifetime, e.g. 90s, 15m, 1h', '15m')
    .addHelpText(
      'after',
      `
Only the token goes to stdout (what it is for goes to stderr), so a script can capture it.
${examples(['TOKEN=$(mcp-gateway token issue --user alice --server time --ttl 5m)', 'curl -H "Authorization: Bearer $TOKEN" ...'])}`,
    )
    .action(async (flags: TokenIssueFlags) => {
      const { runTokenIssue } = await import('./commands/token-issue.js');
      await runTokenIssue({ dir: resolve(flags.dir), user: flags.user, server: flags.server, ttl: flags.ttl }, output);
    });

  const keys = program.command('keys').description('Manage the keys that sign access tokens');
  keys
    .command('rotate')
    .description('Add a new signing key; the old ones keep verifying until their tokens expire')
    .addOption(dirOption())
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
The new key signs from now on (a running serve picks it up on SIGHUP, on restart, or when it first
sees a token signed by it). Keys retired longer ago than the access-token lifetime are removed.
${examples(['mcp-gateway keys rotate --dir ./gw', 'kill -HUP $(pidof mcp-gateway)'])}`,
    )
    .action(async (flags: { dir: string; json?: boolean }) => {
      const { runKeysRotate } = await import('./commands/keys-rotate.js');
      await runKeysRotate({ dir: resolve(flags.dir), ...(flags.json ? { json: true } : {}) }, output);
    });

  // What the containers run (compose.yaml `command:`); configured by MCPGW_* env, not flags.
  const runtime = program.command('runtime', { hidden: true }).description('Container runtimes of a Docker deployment (configured by MCPGW_* environment variables)');
  runtime
    .command('auth')
    .description('The OAuth authorization server and ForwardAuth /verify (MCPGW_CONFIG, MCPGW_LISTEN, MCPGW_SIGNING_KEYS, ...)')
    .action(async () => {
      const { runRuntimeAuth } = await import('./commands/runtime-auth.js');
      await runRuntimeAuth({ env: process.env });
    });
  runtime
    .command('bridge')
    .description("One server's bridge: stdio child processes per session, or the remote proxy")
    .argument('<name>', 'the configured server name')
    .action(async (name: string) => {
      const { runRuntimeBridge } = await import('./commands/runtime-bridge.js');
      await runRuntimeBridge({ name, env: process.env });
    });
  runtime
    .command('router')
    .description('The built-in router: ForwardAuth to MCPGW_AUTH_URL, MCP endpoints to MCPGW_BRIDGE_URL')
    .action(async () => {
      const { runRuntimeRouter } = await import('./commands/runtime-router.js');
      await runRuntimeRouter({ env: process.env });
    });
  runtime
    .command('relay')
    .description('Copies TCP connections on MCPGW_LISTEN to the Unix socket MCPGW_RELAY_SOCKET (the bridge of a network: none server)')
    .action(async () => {
      const { runRuntimeRelay } = await import('./commands/runtime-relay.js');
      await runRuntimeRelay({ env: process.env });
    });
  runtime
    .command('healthcheck')
    .description('Exit 0 when GET URL answers 200 within 2 s, else 1 (the images have no curl)')
    .argument('<url>', 'e.g. http://127.0.0.1:8000/health')
    .option('--unix-socket <path>', "connect to this Unix socket instead of the URL's host and port (as curl does)")
    .action(async (url: string, flags: { unixSocket?: string }) => {
      const { runRuntimeHealthcheck } = await import('./commands/runtime-healthcheck.js');
      await runRuntimeHealthcheck({ url, ...(flags.unixSocket === undefined ? {} : { unixSocket: flags.unixSocket }) });
    });

  program
    .command('render')
    .description('Write the Docker deploy folder (compose.yaml, Traefik config, runtime images, secrets) without starting anything')
    .addOption(dirOption())
    .option('--out <dir>', 'the deploy folder, replaced as a whole (default: <dir>/deploy)')
    .option('--base-image <image>', 'base image of the node runtime image instead of deploy.nodeImage (any image with node at /usr/local/bin/node)')
    .addHelpText(
      'after',
      `
\`docker compose up -d\` in the deploy folder starts the deployment without this CLI. Secrets go to
secrets/<service>.env (mode 0600), never into compose.yaml or the images.
${examples(['mcp-gateway render --dir ./gw', 'cd ./gw/deploy && docker compose up -d', 'mcp-gateway render --dir ./gw --base-image registry.example.com/node:20'])}`,
    )
    .action(async (flags: DirFlag & { out?: string; baseImage?: string }) => {
      const { runRender } = await import('./commands/render.js');
      await runRender({ dir: resolve(flags.dir), ...(flags.out === undefined ? {} : { out: resolve(flags.out) }), ...(flags.baseImage === undefined ? {} : { baseImage: flags.baseImage }) }, { output });
    });

  // Docker deployment: up / down / status / logs (through the Docker API, see runtime/deploy/docker/).
  program
    .command('up')
    .description('Render the deploy folder and start (or update) the Docker deployment: Redis, auth, the router, one bridge per server')
    .addOption(dirOption())
    .option('--out <dir>', 'the deploy folder (default: <dir>/deploy)')
    .option('--base-image <image>', 'base image of the runtime images instead of deploy.nodeImage (any image with node at /usr/local/bin/node)')
    .option('--redis-image <image>', 'Redis image instead of deploy.redisImage')
    .option('--timeout <duration>', 'how long each service may take to become healthy, e.g. 5m (default: 3m)')
    .addHelpText(
      'after',
      `
Idempotent: only containers whose definition changed are recreated, containers of removed servers
are removed, images are built when their tag (which hashes the build context) is missing. If anything
fails, what this run changed is undone and what is still running is listed.
${examples(['mcp-gateway up --dir ./gw', 'mcp-gateway up --base-image my-node:20 --redis-image my-redis:7'])}`,
    )
    .action(async (flags: DirFlag & { out?: string; baseImage?: string; redisImage?: string; timeout?: string }) => {
      const { runUp } = await import('./commands/up.js');
      const { untilInterrupted } = await import('./interrupt.js');
      await untilInterrupted(
        (signal) =>
          runUp(
            {
              dir: resolve(flags.dir),
              ...(flags.out === undefined ? {} : { out: resolve(flags.out) }),
              ...(flags.baseImage === undefined ? {} : { baseImage: flags.baseImage }),
              ...(flags.redisImage === undefined ? {} : { redisImage: flags.redisImage }),
              ...(flags.timeout === undefined ? {} : { timeout: flags.timeout }),
            },
            { output, interactive: Boolean(process.stdout.isTTY && process.stderr.isTTY), signal },
          ),
        () => output.stderr('\ninterrupted: undoing what this run changed (Ctrl+C again to quit at once)\n'),
      );
    });
  program
    .command('down')
    .description("Stop and remove the Docker deployment's containers and network (volumes only with --volumes)")
    .addOption(dirOption())
    .option('--volumes', "also remove the volumes: the Redis data (tokens, registered clients, consents) is lost; servers' data stays in .mcp-gateway/servers/")
    .addHelpText('after', examples(['mcp-gateway down --dir ./gw', 'mcp-gateway down --volumes']))
    .action(async (flags: DirFlag & { volumes?: boolean }) => {
      const { runDown } = await import('./commands/down.js');
      await runDown({ dir: resolve(flags.dir), volumes: flags.volumes === true }, { output });
    });
  program
    .command('status')
    .description('Show the Docker deployment: service, container, state, health, ports')
    .addOption(dirOption())
    .option('--json', 'print one JSON document { project, services: [{ service, server, container, state, health, ports, image, status }] }')
    .addHelpText('after', examples(['mcp-gateway status --dir ./gw', 'mcp-gateway status --json | jq -r ".services[] | select(.health != \\"healthy\\") | .service"']))
    .action(async (flags: DirFlag & { json?: boolean }) => {
      const { runStatus } = await import('./commands/status.js');
      await runStatus({ dir: resolve(flags.dir), json: flags.json === true }, { output });
    });
  program
    .command('logs')
    .description("Show the Docker deployment's logs (JSON lines), each line prefixed by its service")
    .argument('[name]', 'a service (auth, router, redis, bridge-NAME) or a server NAME; all when omitted')
    .addOption(dirOption())
    .option('-f, --follow', 'keep printing new lines until Ctrl+C')
    .option('--tail <n>', 'only the last N lines of each container')
    .option('--no-prefix', 'print the lines without the "service | " prefix')
    .addHelpText('after', examples(['mcp-gateway logs --dir ./gw', 'mcp-gateway logs time --follow', 'mcp-gateway logs auth --tail 50 --no-prefix | jq .msg']))
    .action(async (name: string | undefined, flags: DirFlag & { follow?: boolean; tail?: string; prefix: boolean }) => {
      const { runLogs } = await import('./commands/logs.js');
      const { untilInterrupted } = await import('./interrupt.js');
      await untilInterrupted((signal) =>
        runLogs(
          { dir: resolve(flags.dir), ...(name === undefined ? {} : { name }), follow: flags.follow === true, ...(flags.tail === undefined ? {} : { tail: flags.tail }), prefix: flags.prefix },
          { output, signal },
        ),
      );
    });

  // GitHub app registration (app-manifest flow, or --manual for an OAuth app made by hand).
  program
    .command('github')
    .description('Set up the GitHub app that users log in with')
    .command('register')
    .description('Create the GitHub App users log in with (GitHub\'s app-manifest flow, in your browser) and store its credentials; --manual checks and stores an OAuth app\'s instead')
    .addOption(dirOption())
    .option('--github-url <url>', 'GitHub Enterprise Server base URL (default: provider.url of the config, else https://github.com)')
    .option('--org <org>', 'create the app for this organization instead of your personal account')
    .option('--name <name>', 'the app\'s name, at most 34 characters (default: mcp-gateway-<host of the public URL>)')
    .option('--no-open', 'print the local URL to open instead of opening a browser')
    .option('--timeout <duration>', 'how long to wait for GitHub, e.g. 20m', '10m')
    .option('--manual', 'print the values for GitHub\'s OAuth-app form, then check and store the client id and secret pasted back')
    .option('--github-client-id <id>', 'with --manual: the client ID (asked for when omitted in a terminal)')
    .addOption(new Option('--github-client-secret <secret>', 'with --manual: the client secret; prefer the environment variable').env('MCP_GATEWAY_GITHUB_CLIENT_SECRET'))
    .option('--force', 'replace the GitHub app already configured')
    .addHelpText(
      'after',
      `
A local page on 127.0.0.1 posts the app's manifest to GitHub (no webhook, no permissions beyond
who the user is; organization members: read only with provider.orgs/teams); GitHub sends the
browser back with a one-time code, which becomes the app's credentials. The client secret, private
key and webhook secret go to .secrets/ (mode 0600), the client id to mcp-gateway.yaml.
${examples([
  'mcp-gateway github register --dir ./gw',
  'mcp-gateway github register --org acme --no-open',
  'mcp-gateway github register --github-url https://github.example.com',
  'MCP_GATEWAY_GITHUB_CLIENT_SECRET=... mcp-gateway github register --manual --github-client-id Ov23li...',
])}`,
    )
    .action(
      async (flags: DirFlag & { githubUrl?: string; org?: string; name?: string; open: boolean; timeout: string; manual?: boolean; githubClientId?: string; githubClientSecret?: string; force?: boolean }) => {
        const { runGitHubRegister } = await import('./commands/github-register.js');
        await runGitHubRegister({ ...flags, dir: resolve(flags.dir) }, { output });
      },
    );

  program
    .command('doctor')
    .description('Check the project: config, secrets, Docker, ports, DNS, the login provider, Redis, and that every server starts; prints the fix for each failure')
    .addOption(dirOption())
    .option('--json', 'print the results as one JSON array [{ name, status: pass|fail|warn|skip, detail, fix? }] and nothing else')
    .option('--timeout <duration>', 'how long each server may take to answer initialize, e.g. 60s for a first `npx`/`uvx` download (default: 20s)')
    .addHelpText(
      'after',
      `
Exits 1 when a check fails (warnings and skipped checks do not). Docker and port checks run only for a
Docker deployment (deploy.domain/email/project set, or a rendered deploy/); the GitHub app's credentials
are checked without anybody logging in; each stdio server is started, asked to initialize and stopped.
${examples(['mcp-gateway doctor --dir ./gw', 'mcp-gateway doctor --json | jq -r \'.[] | select(.status == "fail") | .fix\''])}`,
    )
    .action(async (flags: DirFlag & { json?: boolean; timeout?: string }) => {
      const { runDoctor } = await import('./commands/doctor.js');
      await runDoctor({ dir: resolve(flags.dir), ...(flags.json ? { json: true } : {}), ...(flags.timeout === undefined ? {} : { timeout: flags.timeout }) }, { output });
    });

  program
    .command('completion')
    .description('Print the shell completion script for bash, zsh or fish')
    .addArgument(program.createArgument('[shell]', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addOption(new Option('--servers', 'print the configured server names (what the scripts call)').hideHelp())
    .addOption(dirOption().hideHelp())
    .addHelpText(
      'after',
      `
Install (then open a new shell):
  bash  source <(mcp-gateway completion bash)   in ~/.bashrc, or:
        mcp-gateway completion bash > ~/.local/share/bash-completion/completions/mcp-gateway
  zsh   mcp-gateway completion zsh > "\${fpath[1]}/_mcp-gateway"   (compinit must run in ~/.zshrc), or:
        source <(mcp-gateway completion zsh)   in ~/.zshrc, after compinit
  fish  mcp-gateway completion fish > ~/.config/fish/completions/mcp-gateway.fish

Commands, options and their choices are completed; server names (remove-server, logs, --server) are
read from the project of --dir, or of the current directory.`,
    )
    .action(async (shell: 'bash' | 'zsh' | 'fish' | undefined, flags: DirFlag & { servers?: boolean }) => {
      const { runCompletion } = await import('./commands/completion.js');
      await runCompletion({ dir: resolve(flags.dir), ...(shell === undefined ? {} : { shell }), ...(flags.servers ? { servers: true } : {}) }, { output, program });
    });

  // Administration: clients, grants and the smoke check, through the running gateway's admin API.
  const adminNote = `
A running gateway is asked through its admin API (<publicUrl>/admin/, or --url), authorised by
.secrets/admin-token. When no gateway runs (no live serve named by .mcp-gateway/store.sqlite.gateway.lock),
the embedded SQLite database is opened directly, and several commands may do so at once; a Redis
store is then used directly (password from .secrets/redis-password).
A Docker deployment (a rendered deploy/compose.yaml, or deploy.email or deploy.project set) is only
ever asked through its auth runtime's admin API: when the public URL does not reach it from this
host, pass --url with the router's published port (builtin router: http://127.0.0.1:<deploy.httpPort>).`;
  const urlOption = (): Option => new Option('--url <url>', "reach the gateway's admin API here instead of at its public URL (e.g. http://127.0.0.1:8080)");
  const urlOf = (flags: { url?: string }): { url?: string } => (flags.url === undefined ? {} : { url: flags.url });
  const clients = program.command('clients').description('List, inspect, remove and prune the OAuth clients registered with the gateway');
  clients
    .command('list')
    .description('List registered clients: id, name, registration, last use, active grants, redirect URIs')
    .addOption(dirOption())
    .addOption(urlOption())
    .option('--json', 'print one JSON document { clients: [...] }')
    .addHelpText('after', `${adminNote}\n${examples(['mcp-gateway clients list --dir ./gw', 'mcp-gateway clients list --json | jq -r ".clients[].clientId"'])}`)
    .action(async (flags: DirFlag & { url?: string; json?: boolean }) => {
      const { runClientsList } = await import('./commands/clients.js');
      await runClientsList({ dir: resolve(flags.dir), ...urlOf(flags), json: flags.json === true }, { output });
    });
  clients
    .command('show')
    .description('Show one client and its grants')
    .argument('<id>', 'the client id (see clients list)')
    .addOption(dirOption())
    .addOption(urlOption())
    .option('--json', 'print one JSON document { client: {..., grants: [...]} }')
    .addHelpText('after', `${adminNote}\n${examples(['mcp-gateway clients show 3q2-x7Yb... --dir ./gw'])}`)
    .action(async (id: string, flags: DirFlag & { url?: string; json?: boolean }) => {
      const { runClientsShow } = await import('./commands/clients.js');
      await runClientsShow({ dir: resolve(flags.dir), ...urlOf(flags), json: flags.json === true, clientId: id }, { output });
    });
  clients
    .command('remove')
    .description("Revoke every grant of a client and forget it (what its own RFC 7592 DELETE does)")
    .argument('<id>', 'the client id (see clients list)')
    .addOption(dirOption())
    .addOption(urlOption())
    .option('--json', 'print one JSON document { removed: { clientId, clientName, revokedGrants } }')
    .addHelpText('after', `${adminNote}\n${examples(['mcp-gateway clients remove 3q2-x7Yb... --dir ./gw'])}`)
    .action(async (id: string, flags: DirFlag & { url?: string; json?: boolean }) => {
      const { runClientsRemove } = await import('./commands/clients.js');
      await runClientsRemove({ dir: resolve(flags.dir), ...urlOf(flags), json: flags.json === true, clientId: id }, { output });
    });
  clients
    .command('prune')
    .description('Remove clients never used or idle for too long (the gateway also forgets them on its own after clients.unusedTtl / idleTtl)')
    .addOption(dirOption())
    .addOption(urlOption())
    .option('--unused-for <duration>', 'remove clients registered this long ago and never used (default: clients.unusedTtl, 24h)')
    .option('--idle-for <duration>', 'remove clients not used for this long (default: clients.idleTtl, 90d)')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option('--json', 'print one JSON document { dryRun, unusedForMs, idleForMs, clients: [{ clientId, reason, ... }] }')
    .addHelpText('after', `${adminNote}\n${examples(['mcp-gateway clients prune --unused-for 1h --dry-run', 'mcp-gateway clients prune --idle-for 30d --json'])}`)
    .action(async (flags: DirFlag & { url?: string; unusedFor?: string; idleFor?: string; dryRun?: boolean; json?: boolean }) => {
      const { runClientsPrune } = await import('./commands/clients.js');
      await runClientsPrune(
        {
          dir: resolve(flags.dir),
          ...urlOf(flags),
          ...(flags.unusedFor === undefined ? {} : { unusedFor: flags.unusedFor }),
          ...(flags.idleFor === undefined ? {} : { idleFor: flags.idleFor }),
          dryRun: flags.dryRun === true,
          json: flags.json === true,
        },
        { output },
      );
    });

  const tokens = program.command('tokens').description("List and revoke grants: a login's refresh-token family and every access token issued from it");
  tokens
    .command('list')
    .description('List grants (active and revoked) with user, client, resource, creation and last refresh')
    .addOption(dirOption())
    .addOption(urlOption())
    .option('--user <login>', "only this user's grants (login, case-insensitive, or subject such as github:12345)")
    .option('--client <id>', "only this client's grants")
    .option('--json', 'print one JSON document { grants: [{ familyId, clientId, user, resource, createdAt, lastRefreshedAt, revoked, ... }] }')
    .addHelpText('after', `${adminNote}\n${examples(['mcp-gateway tokens list --user alice', 'mcp-gateway tokens list --json | jq ".grants[] | select(.revoked | not)"'])}`)
    .action(async (flags: DirFlag & { url?: string; user?: string; client?: string; json?: boolean }) => {
      const { runTokensList } = await import('./commands/tokens.js');
      await runTokensList({ dir: resolve(flags.dir), ...urlOf(flags), ...(flags.user === undefined ? {} : { user: flags.user }), ...(flags.client === undefined ? {} : { client: flags.client }), json: flags.json === true }, { output });
    });
  tokens
    .command('revoke')
    .description("Revoke grants by user, client or grant id: their access tokens are refused at once, their refresh tokens fail")
    .addOption(dirOption())
    .addOption(urlOption())
    .option('--user <login>', "every grant of this user (login, or subject such as github:12345: a renamed GitHub login may since belong to someone else)")
    .option('--client <id>', 'every grant of this client (the client stays registered; see clients remove)')
    .option('--family <id>', 'one grant (the GRANT column of tokens list)')
    .option('--json', 'print one JSON document { revoked: [grant ids], alreadyRevoked }')
    .addHelpText(
      'after',
      `
At least one of --user, --client, --family; several narrow each other. Tokens minted by \`token issue\`
belong to no grant: they expire on their own (--ttl, at most 24h), or end when the user leaves allowedUsers.
${adminNote}
${examples(['mcp-gateway tokens revoke --user alice', 'mcp-gateway tokens revoke --client 3q2-x7Yb...', 'mcp-gateway tokens revoke --family Zk1...'])}`,
    )
    .action(async (flags: DirFlag & { url?: string; user?: string; client?: string; family?: string; json?: boolean }) => {
      const { runTokensRevoke } = await import('./commands/tokens.js');
      await runTokensRevoke(
        {
          dir: resolve(flags.dir),
          ...urlOf(flags),
          ...(flags.user === undefined ? {} : { user: flags.user }),
          ...(flags.client === undefined ? {} : { client: flags.client }),
          ...(flags.family === undefined ? {} : { family: flags.family }),
          json: flags.json === true,
        },
        { output },
      );
    });

  program
    .command('smoke')
    .description('Check every server end to end as a client would: 401 challenge, metadata, then initialize and tools/list with a short-lived token')
    .addOption(dirOption())
    .option('--url <url>', 'where the gateway is reached, if not at its public URL (e.g. the router of a Docker deployment on http://127.0.0.1:8080)')
    .option('--user <login>', 'the allowed user the tokens are for (default: the first allowed user)')
    .option('--timeout <duration>', 'how long each request may take (default: 30s)')
    .option('--json', 'print one JSON document { ok, gateway, user, servers: [{ server, ok, checks: [...] }], failed, tokensRevoked }')
    .addHelpText(
      'after',
      `
Tokens are signed with the project's key (like \`token issue\`), live 5 minutes, and are revoked
through the admin API at the end. Exit 0 when every server passes, 1 naming each one that failed.
With --url, URLs on the public URL's origin are fetched there instead; the expected values (issuer,
resource, metadata URLs) stay those of the public URL.
${examples(['mcp-gateway smoke --dir ./gw', 'mcp-gateway smoke --dir ./gw --url http://127.0.0.1:8080 --json'])}`,
    )
    .action(async (flags: DirFlag & { url?: string; user?: string; timeout?: string; json?: boolean }) => {
      const { runSmoke } = await import('./commands/smoke.js');
      await runSmoke(
        {
          dir: resolve(flags.dir),
          ...urlOf(flags),
          ...(flags.user === undefined ? {} : { user: flags.user }),
          ...(flags.timeout === undefined ? {} : { timeout: flags.timeout }),
          json: flags.json === true,
        },
        { output },
      );
    });

  addUsageHints(program, 'mcp-gateway');
  return program;
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
  process.exitCode = await runCli(() => program.parseAsync(argv), {
    stderr: (text) => processOutput.stderr(text),
    debug: process.env['MCP_GATEWAY_DEBUG'] === '1',
  });
}
