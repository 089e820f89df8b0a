import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { GatewayError } from '../errors.js';
import { projectPaths } from './project-paths.js';

/** Long enough for a slow disk and 20 CLI commands queueing; a holder refreshes it, so only a dead one's goes stale. */
const STALE_MS = 10_000;
const RETRIES = { retries: 80, factor: 1.3, minTimeout: 15, maxTimeout: 400, randomize: true };

/**
 * Runs one read-modify-write of a project's config or secrets under a lock file, so commands
 * run at once never lose each other's updates (two `add-server`s used to both exit 0 with one
 * server missing). proper-lockfile rather than our own: it uses an atomic mkdir, refreshes the
 * lock while held and takes over a stale one whose holder died, on every platform.
 */
export async function withProjectLock<T>(dir: string, update: () => Promise<T>): Promise<T> {
  const paths = projectPaths(dir);
  const lockPath = join(paths.dir, '.mcp-gateway.yaml.lock');
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(paths.configFile, { realpath: false, lockfilePath: lockPath, stale: STALE_MS, retries: RETRIES });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOCKED') {
      throw new GatewayError('ERR_CONFIG_LOCKED', `another mcp-gateway command is changing ${paths.dir} and did not finish in time`, {
        hint: `try again; if no other mcp-gateway command runs, remove ${lockPath}`,
      });
    }
    if (code === 'ENOENT') {
      throw new GatewayError('ERR_CONFIG_NOT_FOUND', `no project directory at ${paths.dir}`, { hint: `run \`mcp-gateway init --dir ${paths.dir}\` first` });
    }
    throw err;
  }
  try {
    return await update();
  } finally {
    await release().catch(() => undefined);
  }
}
