import { GatewayError } from '../../runtime/errors.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { writeConfig } from '../../runtime/config/write-config.js';
import { removeServerHeaders } from '../../runtime/config/server-headers.js';
import { dirArg } from '../dir-arg.js';
import { endpointUrl } from '../endpoint-url.js';
import { processOutput, type CliOutput } from '../output.js';

export interface RemoveServerOptions {
  dir: string;
  name: string;
}

export interface RemoveServerDeps {
  output: CliOutput;
}

export async function runRemoveServer(options: RemoveServerOptions, deps: Partial<RemoveServerDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  if (!Object.hasOwn(config.servers, options.name)) {
    const names = Object.keys(config.servers).sort();
    throw new GatewayError('ERR_SERVER_UNKNOWN', `no server named ${options.name} is configured`, {
      hint: names.length > 0 ? `configured servers: ${names.join(', ')}` : 'no servers are configured yet',
    });
  }
  const servers = Object.fromEntries(Object.entries(config.servers).filter(([name]) => name !== options.name));
  await writeConfig(paths.dir, { ...config, servers });
  // A remote server's header values are a secret: do not leave them behind.
  await removeServerHeaders(paths, options.name);
  output.stdout(
    [
      `Removed server ${options.name}; ${endpointUrl(config.publicUrl, options.name)} stops answering once the gateway restarts.`,
      `Files it created (if any) are left in place. Restart: mcp-gateway serve${dirArg(paths.dir)}`,
    ].join('\n') + '\n',
  );
}
