import type { RuntimeEnv } from '../../runtime/entrypoints/runtime-env.js';
import { createRuntimeLogger } from '../../runtime/entrypoints/runtime-logger.js';
import { startRouterRuntimeFromEnv } from '../../runtime/entrypoints/router-runtime.js';
import { runUntilStopped } from './runtime-process.js';

/** `mcp-gateway runtime router`: the built-in router container's process. */
export async function runRuntimeRouter({ env }: { env: RuntimeEnv }): Promise<void> {
  const { logger } = createRuntimeLogger('router', { logDir: env['MCPGW_LOG_DIR'] });
  await runUntilStopped(() => startRouterRuntimeFromEnv({ env, logger }), logger);
}
