import type { McpEndpoint } from '../bridge/bridge.js';
import type { GatewayTracing } from '../tracing/gateway-tracing.js';

/** What the router looks its servers up in (builtin-router.ts). */
export type EndpointLookup = Pick<ReadonlyMap<string, McpEndpoint>, 'get'>;

/**
 * The embedded gateway's servers as the router sees them with traces on: each request handed
 * to a bridge gets its `mcp.bridge` span first. Looked up per request, so a reloaded config's
 * servers (runtime/reload/, which replaces entries of `services`) are traced too.
 */
export function tracedEndpoints(services: EndpointLookup, tracing: GatewayTracing): EndpointLookup {
  return {
    get(name) {
      const endpoint = services.get(name);
      if (endpoint === undefined) return undefined;
      return {
        handle(req, res) {
          tracing.bridge(req, res, name);
          return endpoint.handle(req, res);
        },
      };
    },
  };
}
