import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GatewayError } from '../../runtime/errors.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import {
  HEADER_NAME,
  isLoopbackHost,
  RESERVED_UPSTREAM_HEADERS,
  SERVER_NAME,
  SERVER_NAME_HINT,
  type GatewayConfig,
  type SandboxMode,
  type ServerConfigInput,
  type ServerMountConfig,
} from '../../runtime/config/schema.js';
import { removeServerHeaders, writeServerHeaders } from '../../runtime/config/server-headers.js';
import { removeServerOAuthSecret, writeServerOAuthSecret } from '../../runtime/config/server-oauth-secret.js';
import { blockStyle, editConfig } from '../../runtime/config/edit-config.js';
import { withProjectLock } from '../../runtime/config/project-lock.js';
import { catalogNames, resolveCatalogServer } from '../catalog.js';
import { formatCommandLine, parseCommandLine } from '../command-line.js';
import { applyAdvice, applyCommand, projectRunner } from '../deployment-advice.js';
import { endpointUrl } from '../endpoint-url.js';
import { parseEnvPairs } from '../env-pairs.js';
import { processOutput, type CliOutput } from '../output.js';
import { isExecutableCommand } from '../../runtime/fs/executable-command.js';

export interface AddServerOptions {
  dir: string;
  name: string;
  /** A command line ("CMD ARGS"), split like a shell would but run without one. */
  command?: string | undefined;
  /** `K=V` pairs; added to (and overriding) a catalog server's own environment. */
  env?: string[] | undefined;
  /** A remote Streamable HTTP MCP server to proxy, instead of a command. */
  url?: string | undefined;
  /** Member servers of an aggregate endpoint (servers.NAME.aggregate), instead of a command or URL. */
  aggregate?: string[] | undefined;
  /** `K=V` static headers for the remote server; the values go to `.secrets/`. */
  header?: string[] | undefined;
  /** The remote server has its own OAuth: per-user upstream tokens (servers.NAME.oauth). */
  oauth?: boolean | undefined;
  /** Scopes asked of the upstream, with --oauth. */
  scope?: string[] | undefined;
  /** A client registered at the upstream, with --oauth. */
  clientId?: string | undefined;
  /** The environment variable that holds that client's secret. */
  clientSecretEnv?: string | undefined;
  description?: string | undefined;
  /** `PATH` or `PATH:ro`: host paths the sandboxed server may use (servers.NAME.mounts). */
  mount?: string[] | undefined;
  /** `none`: no network for the server. */
  network?: 'none' | undefined;
  sandbox?: SandboxMode | undefined;
  /** Replace a server of the same name. */
  force?: boolean | undefined;
  /** Print the result as one JSON document (AddServerResult). */
  json?: boolean | undefined;
}

/** What `add-server --json` prints: the entry as written, where clients connect, and what applies it. */
export interface AddServerResult {
  server: string;
  replaced: boolean;
  command?: string;
  args?: string[];
  /** Names only: values (API keys, often) never go to stdout. */
  env?: string[];
  mounts?: Array<{ path: string; readOnly?: boolean | undefined }>;
  url?: string;
  /** Names only; the values live in .secrets/servers/NAME.headers.json. */
  headers?: string[];
  /** servers.NAME.oauth as written (the client secret, if any, only as `clientSecret: true`). */
  oauth?: { scopes?: string[]; clientId?: string; clientSecret: boolean };
  /** The members of an aggregate endpoint. */
  aggregate?: string[];
  endpoint: string;
  notes: string[];
  warnings: string[];
  /** The command that makes the change live: serve (if not running) or up. */
  next: string;
}

export interface AddServerDeps {
  output: CliOutput;
  /** Whether a command can be found on PATH; only used to warn. */
  commandExists: (command: string) => Promise<boolean>;
}

export async function runAddServer(options: AddServerOptions, deps: Partial<AddServerDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  const commandExists = deps.commandExists ?? ((command: string) => isExecutableCommand(command));
  const { name } = options;

  // Usage problems first, before the config is even read.
  if (!SERVER_NAME.test(name)) {
    throw new GatewayError('ERR_USAGE', `invalid server name "${name}"`, { hint: `${SERVER_NAME_HINT} (the name becomes the endpoint path /NAME/mcp)` });
  }
  if (options.aggregate !== undefined) return addAggregateServer(options, output);
  if (options.url !== undefined) return addRemoteServer(options, output);
  if (options.header !== undefined && options.header.length > 0) {
    throw new GatewayError('ERR_USAGE', '--header is for remote servers', { hint: 'use it with --url; a stdio server gets settings with --env NAME=VALUE' });
  }
  const oauthFlag = (['oauth', 'scope', 'clientId', 'clientSecretEnv'] as const).find((key) => options[key] !== undefined);
  if (oauthFlag !== undefined) {
    throw new GatewayError(
      'ERR_USAGE',
      `--${oauthFlag === 'clientId' ? 'client-id' : oauthFlag === 'clientSecretEnv' ? 'client-secret-env' : oauthFlag} is for remote servers`,
      {
        hint: 'use it with --url: mcp-gateway add-server NAME --url https://remote.example/mcp --oauth',
      },
    );
  }
  const extraMounts = (options.mount ?? []).map(parseMountFlag);
  const extraEnv = parseEnvPairs(options.env ?? []);
  const custom = options.command === undefined ? undefined : parseCommandLine(options.command);
  const description = options.description?.trim() || undefined;

  const paths = projectPaths(options.dir);
  // Resolved without the config: the catalog entry depends only on the name and the directory.
  const catalog = custom ? undefined : resolveCatalogServer(name, paths.dir);
  if (!custom && !catalog) {
    throw new GatewayError('ERR_SERVER_UNKNOWN', `${name} is not in the catalog (${catalogNames().join(', ')})`, {
      hint: `pass the command that starts it: mcp-gateway add-server ${name} --command "npx -y some-mcp-server"`,
    });
  }
  const command = custom?.command ?? catalog?.command ?? '';
  const args = custom?.args ?? catalog?.args ?? [];
  const env = { ...catalog?.env, ...extraEnv };
  const finalDescription = description ?? catalog?.description;
  const mounts = [...(catalog?.mounts ?? []), ...extraMounts];
  const entry: ServerConfigInput = {
    command,
    args,
    env,
    description: finalDescription,
    ...(mounts.length > 0 ? { mounts } : {}),
    network: options.network,
    sandbox: options.sandbox,
  };
  // Before the config, because a mount must exist for the config to load; mkdir is idempotent.
  for (const dir of catalog?.createDirs ?? []) await mkdir(dir.path, { recursive: true, mode: dir.mode });
  const config = await putServer(paths.dir, name, entry, options.force === true);

  const replaced = Object.hasOwn(config.servers, name);
  const runner = await projectRunner(config, paths);
  // In Docker the server runs in the node or python image, so this host's PATH says nothing about it.
  const warnings =
    runner === 'serve' && !(await commandExists(command))
      ? [`${command} is not on PATH here; the gateway will fail to start ${name} until it is installed`]
      : [];
  if (options.json) {
    const result: AddServerResult = {
      server: name,
      replaced,
      command,
      args,
      env: Object.keys(env),
      mounts,
      endpoint: endpointUrl(config.publicUrl, name),
      notes: catalog?.notes ?? [],
      warnings,
      next: applyCommand(runner, paths.dir),
    };
    output.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const lines = [
    `${replaced ? 'Replaced' : 'Added'} server ${name}: ${formatCommandLine(command, args)}`,
    ...Object.keys(env).map((key) => `  env ${key} is set`),
    ...mounts.map((mount) => `  mount ${mount.path}${mount.readOnly ? ' (read-only)' : ''}`),
    `  endpoint: ${endpointUrl(config.publicUrl, name)}`,
    ...(catalog?.notes ?? []).map((note) => `  note: ${note}`),
    applyAdvice(runner, paths.dir),
  ];
  output.stdout(`${lines.join('\n')}\n`);
  for (const warning of warnings) output.stderr(`warning: ${warning}\n`);
}

/**
 * Writes one server entry under the project lock: the config is read inside it, so a command
 * run at the same time (another add-server, a remove-server) is never overwritten. Returns the
 * config as it was before.
 */
async function putServer(dir: string, name: string, entry: ServerConfigInput, force: boolean, beforeWrite?: () => Promise<void>): Promise<GatewayConfig> {
  return withProjectLock(dir, async () => {
    const { before } = await editConfig(dir, async (document, config) => {
      if (Object.hasOwn(config.servers, name) && !force) {
        throw new GatewayError('ERR_SERVER_EXISTS', `a server named ${name} is already configured`, {
          hint: `pass --force to replace it, or pick another name (remove it with \`mcp-gateway remove-server ${name}\`)`,
        });
      }
      await beforeWrite?.();
      if (!document.has('servers')) document.set('servers', document.createNode({}));
      blockStyle(document, ['servers']);
      document.setIn(['servers', name], document.createNode(entry));
    });
    return before;
  });
}

/** `--mount /srv/notes` or `--mount /srv/notes:ro`. */
function parseMountFlag(text: string): ServerMountConfig {
  const readOnly = text.endsWith(':ro');
  const path = readOnly ? text.slice(0, -3) : text.replace(/:rw$/, '');
  if (path.trim() === '')
    throw new GatewayError('ERR_USAGE', `--mount ${text}: no path`, { hint: 'pass a directory or file, e.g. --mount /srv/notes or --mount /srv/notes:ro' });
  return { path: resolve(path), readOnly };
}

/** `add-server NAME --aggregate a,b,c`: one endpoint for several configured servers (their tools as <server>__<tool>). */
async function addAggregateServer(options: AddServerOptions, output: CliOutput): Promise<void> {
  const { name } = options;
  const others = (['command', 'url', 'env', 'header', 'mount', 'network', 'sandbox'] as const).filter((key) => {
    const value = options[key];
    return Array.isArray(value) ? value.length > 0 : value !== undefined;
  });
  if (others.length > 0) {
    throw new GatewayError('ERR_USAGE', `--aggregate cannot be combined with ${others.map((key) => `--${key}`).join(', ')}`, {
      hint: 'an aggregate runs no command of its own: set those on its members',
    });
  }
  const members = [...new Set((options.aggregate ?? []).map((member) => member.trim()).filter((member) => member !== ''))];
  if (members.length === 0)
    throw new GatewayError('ERR_USAGE', '--aggregate needs member servers', { hint: `e.g. mcp-gateway add-server ${name} --aggregate fs,time,memory` });
  const description = options.description?.trim() || undefined;
  const paths = projectPaths(options.dir);
  // The config's own checks (members exist, none is an aggregate) run when the edit is validated.
  const config = await putServer(paths.dir, name, { aggregate: members, description }, options.force === true);
  const replaced = Object.hasOwn(config.servers, name);
  const runner = await projectRunner(config, paths);
  if (options.json) {
    const result: AddServerResult = {
      server: name,
      replaced,
      aggregate: members,
      endpoint: endpointUrl(config.publicUrl, name),
      notes: ['tools, prompts and resources are named <server>__<name>; each member keeps its own tools/access/rateLimit'],
      warnings: runner === 'serve' ? [] : ['aggregate endpoints run in `mcp-gateway serve` only; Docker deployments refuse them for now'],
      next: applyCommand(runner, paths.dir),
    };
    output.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const lines = [
    `${replaced ? 'Replaced' : 'Added'} aggregate ${name}: ${members.join(', ')} (tools named <server>__<tool>, each member's own access rules apply)`,
    `  endpoint: ${endpointUrl(config.publicUrl, name)}`,
    applyAdvice(runner, paths.dir),
  ];
  output.stdout(`${lines.join('\n')}\n`);
  if (runner !== 'serve') output.stderr('warning: aggregate endpoints run in `mcp-gateway serve` only; Docker deployments refuse them for now\n');
}

/** `add-server NAME --url URL [--header K=V]...`: the YAML names the headers, `.secrets/` holds their values. */
async function addRemoteServer(options: AddServerOptions, output: CliOutput): Promise<void> {
  const { name } = options;
  if (options.command !== undefined || (options.env ?? []).length > 0) {
    throw new GatewayError('ERR_USAGE', '--url cannot be combined with --command or --env', {
      hint: 'a remote server is reached over HTTP; static settings go in --header NAME=VALUE',
    });
  }
  const url = parseRemoteUrl(options.url ?? '');
  const headers = Object.fromEntries((options.header ?? []).map(parseHeaderPair));
  const oauth = parseOAuthFlags(options);
  const description = options.description?.trim() || undefined;
  const paths = projectPaths(options.dir);
  const names = Object.keys(headers);
  const entry: ServerConfigInput = {
    url,
    ...(names.length > 0 ? { headers: names } : {}),
    ...(oauth === undefined ? {} : { oauth: oauth.entry }),
    description,
  };
  // Secrets first: a config naming headers whose values are missing would not start.
  const config = await putServer(paths.dir, name, entry, options.force === true, async () => {
    if (names.length > 0) await writeServerHeaders(paths, name, headers);
    else await removeServerHeaders(paths, name);
    if (oauth?.secret !== undefined) await writeServerOAuthSecret(paths, name, oauth.secret);
    else await removeServerOAuthSecret(paths, name);
  });
  const replaced = Object.hasOwn(config.servers, name);
  const runner = await projectRunner(config, paths);
  if (options.json) {
    const result: AddServerResult = {
      server: name,
      replaced,
      url,
      headers: names,
      ...(oauth === undefined ? {} : { oauth: { ...oauth.entry, clientSecret: oauth.secret !== undefined } }),
      endpoint: endpointUrl(config.publicUrl, name),
      notes: oauth === undefined ? [] : [OAUTH_NOTE],
      warnings: [],
      next: applyCommand(runner, paths.dir),
    };
    output.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const lines = [
    `${replaced ? 'Replaced' : 'Added'} remote server ${name}: ${url}`,
    ...names.map((header) => `  header ${header} is set (value in .secrets/servers/${name}.headers.json)`),
    ...(oauth === undefined
      ? []
      : [
          `  oauth: ${oauth.entry.clientId === undefined ? 'client found at the upstream when the first user connects' : `client ${oauth.entry.clientId}`}${oauth.secret === undefined ? '' : ` (secret in .secrets/servers/${name}.oauth-client-secret)`}${oauth.entry.scopes === undefined ? '' : `, scopes ${oauth.entry.scopes.join(' ')}`}`,
          `  ${OAUTH_NOTE}`,
        ]),
    `  endpoint: ${endpointUrl(config.publicUrl, name)}`,
    applyAdvice(runner, paths.dir),
  ];
  output.stdout(`${lines.join('\n')}\n`);
}

function parseRemoteUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatewayError('ERR_USAGE', `--url ${text} is not a URL`, { hint: 'e.g. --url https://mcp.example.com/mcp' });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new GatewayError('ERR_USAGE', `--url ${text} must use https (http only on a loopback host)`, {
      hint: 'the static headers (API keys) would otherwise cross the network unencrypted',
    });
  }
  return url.href;
}

/** `--header K=V`: an HTTP header name and a one-line value. */
function parseHeaderPair(pair: string): [string, string] {
  const eq = pair.indexOf('=');
  const name = eq === -1 ? '' : pair.slice(0, eq).trim();
  if (!HEADER_NAME.test(name)) {
    throw new GatewayError('ERR_USAGE', `--header ${eq === -1 ? pair : name || '(empty name)'}: expected NAME=VALUE with an HTTP header name`, {
      hint: 'e.g. --header "Authorization=Bearer sk-..." or --header X-Api-Key=...',
    });
  }
  if (RESERVED_UPSTREAM_HEADERS.has(name.toLowerCase())) {
    throw new GatewayError('ERR_USAGE', `--header ${name}: the gateway sets this header itself`, {
      hint: 'static headers are for credentials and similar, e.g. Authorization or X-Api-Key',
    });
  }
  const value = pair.slice(eq + 1).trim();
  if (/[\r\n\0]/.test(value))
    throw new GatewayError('ERR_USAGE', `--header ${name}: the value must not contain line breaks`, { hint: 'pass the value on one line' });
  return [name, value];
}

const OAUTH_NOTE = "each user authorizes the upstream once, in the same browser trip as the gateway's own login; the gateway keeps and refreshes their tokens";

/** `--oauth [--scope S]... [--client-id ID [--client-secret-env VAR]]`: servers.NAME.oauth, and the client secret read from the named variable. */
function parseOAuthFlags(options: AddServerOptions): { entry: { scopes?: string[]; clientId?: string }; secret: string | undefined } | undefined {
  const dependent = (['scope', 'clientId', 'clientSecretEnv'] as const).filter((key) => options[key] !== undefined);
  if (options.oauth !== true) {
    if (dependent.length === 0) return undefined;
    const flag = { scope: '--scope', clientId: '--client-id', clientSecretEnv: '--client-secret-env' }[dependent[0]!];
    throw new GatewayError('ERR_USAGE', `${flag} needs --oauth`, { hint: `e.g. mcp-gateway add-server NAME --url URL --oauth ${flag} ...` });
  }
  const scopes = (options.scope ?? []).flatMap((scope) => scope.split(/\s+/)).filter((scope) => scope !== '');
  const bad = scopes.find((scope) => !/^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/.test(scope));
  if (bad !== undefined)
    throw new GatewayError('ERR_USAGE', `--scope ${JSON.stringify(bad)} is not a scope`, {
      hint: 'a scope is 1-64 printable characters without quotes or backslashes',
    });
  const clientId = options.clientId?.trim();
  if (clientId !== undefined && !/^[\x21-\x7E]{1,256}$/.test(clientId)) {
    throw new GatewayError('ERR_USAGE', '--client-id must be 1-256 printable characters without spaces', {
      hint: 'the client id the upstream gave you when you registered the client',
    });
  }
  let secret: string | undefined;
  if (options.clientSecretEnv !== undefined) {
    if (clientId === undefined)
      throw new GatewayError('ERR_USAGE', '--client-secret-env needs --client-id', { hint: 'the secret belongs to the client you registered at the upstream' });
    const variable = options.clientSecretEnv;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable))
      throw new GatewayError('ERR_USAGE', `--client-secret-env ${variable} is not an environment variable name`, {
        hint: 'e.g. --client-secret-env LINEAR_CLIENT_SECRET',
      });
    secret = process.env[variable];
    if (secret === undefined || secret.trim() === '') {
      throw new GatewayError('ERR_USAGE', `--client-secret-env ${variable}: the variable is not set`, {
        hint: `set it for this command only, so the secret stays out of your shell history: read -s ${variable} && export ${variable}, then run add-server again`,
      });
    }
    if (/[\r\n]/.test(secret.trim()))
      throw new GatewayError('ERR_USAGE', `--client-secret-env ${variable}: the secret must be one line`, { hint: 'check the value' });
    secret = secret.trim();
  }
  return { entry: { ...(scopes.length > 0 ? { scopes: [...new Set(scopes)] } : {}), ...(clientId === undefined ? {} : { clientId }) }, secret };
}
