import type { AuthContext } from '../auth/auth-context.js';
import type { Bridge } from '../bridge/bridge.js';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createMcpServices, type McpServicesDeps } from '../mcp-services.js';
import { planReload, type ReloadPlan } from './reload-plan.js';

export interface ReloadDeps {
  ctx: AuthContext;
  /** The router's and /health's own map: changed in place. */
  services: Map<string, Bridge>;
  logger: Logger;
  serviceDeps: Omit<McpServicesDeps, 'upstreamHeaders'>;
  /** Header values of remote servers as the new config names them (`.secrets/servers/`). */
  loadUpstreamHeaders?: (config: GatewayConfig) => Promise<McpServicesDeps['upstreamHeaders']>;
}

/**
 * Applies a new config to a running gateway without a restart: new servers start serving,
 * removed ones stop (their sessions end), changed ones are replaced, and the others, with
 * their sessions, are not touched. Everything that can fail (a setting that needs a restart, a
 * sandbox that cannot be set up, a missing header secret) fails before anything changes, so a
 * refused reload leaves the old config serving.
 */
export async function applyReload(next: GatewayConfig, deps: ReloadDeps): Promise<ReloadPlan> {
  const { ctx, services, logger } = deps;
  const plan = planReload(ctx.config, next);
  if (plan.needsRestart.length > 0) {
    throw new GatewayError('ERR_RELOAD_REFUSED', `${plan.needsRestart.join(', ')} changed, which a running gateway cannot take over`, {
      hint: 'restart mcp-gateway serve to apply it; the old configuration keeps serving until then',
    });
  }
  const starting = [...plan.added, ...plan.changed];
  const upstreamHeaders = starting.length > 0 && deps.loadUpstreamHeaders ? await deps.loadUpstreamHeaders(next) : undefined;
  const subset: GatewayConfig = { ...next, servers: Object.fromEntries(starting.map((name) => [name, next.servers[name]!])) };
  const fresh = createMcpServices(subset, { ...deps.serviceDeps, ...(upstreamHeaders ? { upstreamHeaders } : {}) });

  // From here to the closes, no await: a request sees either the old set of servers or the new one.
  ctx.applyConfig(next);
  const retired: Bridge[] = [];
  for (const name of plan.removed) {
    const old = services.get(name);
    if (old !== undefined) retired.push(old);
    services.delete(name);
  }
  for (const [name, service] of fresh) {
    const old = services.get(name);
    if (old !== undefined) retired.push(old);
    services.set(name, service);
  }
  logger.info(
    { event: 'config_reloaded', added: plan.added, removed: plan.removed, changed: plan.changed, allowlistChanged: plan.allowlistChanged },
    'configuration reloaded',
  );
  await Promise.all(retired.map((service) => service.close()));
  return plan;
}
