import { startBridgeRuntimeFromEnv } from '../../runtime/entrypoints/bridge-runtime.js';
import type { RuntimeEnv } from '../../runtime/entrypoints/runtime-env.js';
import { createRuntimeLogger } from '../../runtime/entrypoints/runtime-logger.js';
import { runUntilStopped } from './runtime-process.js';

/** `mcp-gateway runtime bridge NAME`: a bridge container's process. */
export async function runRuntimeBridge({ name, env }: { name: string; env: RuntimeEnv }): Promise<void> {
  const { logger } = createRuntimeLogger(`bridge-${name}`, { logDir: env['MCPGW_LOG_DIR'] });
  await runUntilStopped(() => startBridgeRuntimeFromEnv({ serverName: name, env, logger }), logger);
}
