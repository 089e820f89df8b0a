import { GatewayError } from '../../runtime/errors.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { editConfig } from '../../runtime/config/edit-config.js';
import { withProjectLock } from '../../runtime/config/project-lock.js';
import { removeServerHeaders } from '../../runtime/config/server-headers.js';
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
    // A remote server's header values are a secret: do not leave them behind.
    await removeServerHeaders(paths, options.name);
    return before;
  });
  output.stdout(
    `Removed server ${options.name}; a running mcp-gateway serve stops serving ${endpointUrl(config.publicUrl, options.name)} by itself (its sessions end).\n` +
      'Files it created (if any) are left in place.\n',
  );
}
