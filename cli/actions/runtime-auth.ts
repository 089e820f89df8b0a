import { startAuthRuntimeFromEnv } from '../../runtime/entrypoints/auth-runtime.js';
import type { RuntimeEnv } from '../../runtime/entrypoints/runtime-env.js';
import { createRuntimeLogger } from '../../runtime/entrypoints/runtime-logger.js';
import { runUntilStopped } from './runtime-process.js';

/** `mcp-gateway runtime auth`: the auth container's process. */
export async function runRuntimeAuth({ env }: { env: RuntimeEnv }): Promise<void> {
  const { logger } = createRuntimeLogger('auth', { logDir: env['MCPGW_LOG_DIR'] });
  await runUntilStopped(() => startAuthRuntimeFromEnv({ env, logger }), logger);
}
