import { mkdir } from 'node:fs/promises';
import { GatewayError } from '../../runtime/errors.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { SERVER_NAME, SERVER_NAME_HINT, type ServerConfig } from '../../runtime/config/schema.js';
import { writeConfig } from '../../runtime/config/write-config.js';
import { catalogNames, resolveCatalogServer } from '../catalog.js';
import { formatCommandLine, parseCommandLine } from '../command-line.js';
import { dirArg } from '../dir-arg.js';
import { endpointUrl } from '../endpoint-url.js';
import { parseEnvPairs } from '../env-pairs.js';
import { processOutput, type CliOutput } from '../output.js';
import { isOnPath } from '../which.js';

export interface AddServerOptions {
  dir: string;
  name: string;
  /** A command line ("CMD ARGS"), split like a shell would but run without one. */
  command?: string;
  /** `K=V` pairs; added to (and overriding) a catalog server's own environment. */
  env?: string[];
  description?: string;
  /** Replace a server of the same name. */
  force?: boolean;
}

export interface AddServerDeps {
  output: CliOutput;
  /** Whether a command can be found on PATH; only used to warn. */
  commandExists: (command: string) => Promise<boolean>;
}

export async function runAddServer(options: AddServerOptions, deps: Partial<AddServerDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  const commandExists = deps.commandExists ?? ((command: string) => isOnPath(command));
  const { name } = options;

  // Usage problems first, before the config is even read.
  if (!SERVER_NAME.test(name)) {
    throw new GatewayError('ERR_USAGE', `invalid server name "${name}"`, { hint: `${SERVER_NAME_HINT} (the name becomes the endpoint path /NAME/mcp)` });
  }
  const extraEnv = parseEnvPairs(options.env ?? []);
  const custom = options.command === undefined ? undefined : parseCommandLine(options.command);
  const description = options.description?.trim() || undefined;

  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  if (Object.hasOwn(config.servers, name) && !options.force) {
    throw new GatewayError('ERR_SERVER_EXISTS', `a server named ${name} is already configured`, {
      hint: `pass --force to replace it, or pick another name (remove it with \`mcp-gateway remove-server ${name}\`)`,
    });
  }

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
  const entry: ServerConfig = { command, args, env, ...(finalDescription === undefined ? {} : { description: finalDescription }) };
  await writeConfig(paths.dir, { ...config, servers: { ...config.servers, [name]: entry } });
  // After the config is written, so a refused write leaves nothing behind; mkdir is idempotent.
  for (const dir of catalog?.createDirs ?? []) await mkdir(dir.path, { recursive: true, mode: dir.mode });

  const replaced = Object.hasOwn(config.servers, name);
  const lines = [
    `${replaced ? 'Replaced' : 'Added'} server ${name}: ${formatCommandLine(command, args)}`,
    ...Object.keys(env).map((key) => `  env ${key} is set`),
    `  endpoint: ${endpointUrl(config.publicUrl, name)}`,
    ...(catalog?.notes ?? []).map((note) => `  note: ${note}`),
    `(Re)start the gateway to serve it: mcp-gateway serve${dirArg(paths.dir)}`,
  ];
  output.stdout(`${lines.join('\n')}\n`);
  if (!(await commandExists(command))) {
    output.stderr(`warning: ${command} is not on PATH here; the gateway will fail to start ${name} until it is installed\n`);
  }
}
