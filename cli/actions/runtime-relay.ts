import type { RuntimeEnv } from '../../runtime/entrypoints/runtime-env.js';
import { createRuntimeLogger } from '../../runtime/entrypoints/runtime-logger.js';
import { startRelayRuntimeFromEnv } from '../../runtime/entrypoints/relay-runtime.js';
import { runUntilStopped } from './runtime-process.js';

/** `mcp-gateway runtime relay`: the process of a `network: none` server's relay container. */
export async function runRuntimeRelay({ env }: { env: RuntimeEnv }): Promise<void> {
  const { logger } = createRuntimeLogger('relay', { logDir: env['MCPGW_LOG_DIR'] });
  await runUntilStopped(() => startRelayRuntimeFromEnv({ env, logger }), logger);
}
