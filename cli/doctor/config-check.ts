import { loadConfig } from '../../runtime/config/load-config.js';
import type { ProjectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import { isGatewayError } from '../../runtime/errors.js';
import { fail, pass, type CheckResult } from './doctor-check.js';

/**
 * The first check, and the one the others stand on: `loadConfig` exactly as `serve` and `up`
 * run it, so a problem is reported with the same dotted path (`servers.time.command: ...`).
 */
export async function checkConfig(paths: ProjectPaths): Promise<{ result: CheckResult; config?: GatewayConfig }> {
  try {
    const config = await loadConfig(paths.dir);
    const servers = Object.keys(config.servers).length;
    return {
      config,
      result: pass(
        'config',
        `${paths.configFile} is valid (provider ${config.provider.type}, store ${config.store.type}, ${servers} server${servers === 1 ? '' : 's'})`,
      ),
    };
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return { result: fail('config', err.message, err.hint ?? `fix ${paths.configFile}`) };
  }
}
