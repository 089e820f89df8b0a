import { GatewayError } from '../../runtime/errors.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { editConfig } from '../../runtime/config/edit-config.js';
import { withProjectLock } from '../../runtime/config/project-lock.js';
import { removeServerHeaders } from '../../runtime/config/server-headers.js';
import { removeServerOAuthSecret } from '../../runtime/config/server-oauth-secret.js';
import { applyCommand, projectRunner } from '../deployment-advice.js';
import { dirArg } from '../dir-arg.js';
import { endpointUrl } from '../endpoint-url.js';
import { processOutput, type CliOutput } from '../output.js';

export interface RemoveServerOptions {
  dir: string;
  name: string;
  /** Print the result as one JSON document. */
  json?: boolean | undefined;
}

export interface RemoveServerDeps {
  output: CliOutput;
}

export async function runRemoveServer(options: RemoveServerOptions, deps: Partial<RemoveServerDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  const paths = projectPaths(options.dir);
  // Read, change and write under the project lock, so a concurrent add-server is never lost.
  const config = await withProjectLock(paths.dir, async () => {
    const { before } = await editConfig(paths.dir, (document, current) => {
      if (!Object.hasOwn(current.servers, options.name)) {
        const names = Object.keys(current.servers).sort();
        throw new GatewayError('ERR_SERVER_UNKNOWN', `no server named ${options.name} is configured`, {
          hint: names.length > 0 ? `configured servers: ${names.join(', ')}` : 'no servers are configured yet',
        });
      }
      document.deleteIn(['servers', options.name]);
    });
    // A remote server's header values and its upstream client secret are secrets: do not leave them behind.
    await removeServerHeaders(paths, options.name);
    await removeServerOAuthSecret(paths, options.name);
    return before;
  });
  const endpoint = endpointUrl(config.publicUrl, options.name);
  const runner = await projectRunner(config, paths);
  if (options.json) {
    output.stdout(`${JSON.stringify({ server: options.name, removed: true, endpoint, next: applyCommand(runner, paths.dir) }, null, 2)}\n`);
    return;
  }
  const apply =
    runner === 'up'
      ? `Apply it to the Docker deployment with mcp-gateway up${dirArg(paths.dir)}: its container stops and ${endpoint} stops answering.`
      : `A running mcp-gateway serve stops serving ${endpoint} by itself (its sessions end).`;
  output.stdout(`Removed server ${options.name}. ${apply}\nFiles it created (if any) are left in place.\n`);
}
