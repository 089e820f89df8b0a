import { AUTH_URL, RUNTIME_PORT } from '../../../runtime/http/edge-contract.js';
import { DEFAULT_ROUTER_LISTEN } from '../../../runtime/entrypoints/runtime-env.js';
import { METRICS_PORT } from '../../../runtime/entrypoints/runtime-metrics.js';
import { edgeRuntimeManifests } from './edge-runtime-manifests.js';
import { ROUTER_SERVICE } from './kubernetes-names.js';
import type { Manifest } from './manifest-yaml.js';
import { env, type WorkloadContext } from './workload-parts.js';

/** The router's port, from the runtime's own default (`0.0.0.0:8080`). */
export const ROUTER_PORT = Number(DEFAULT_ROUTER_LISTEN.split(':')[1]);

/**
 * `{name}` is written as it is: the router puts each server's name there, resolves every address
 * of the headless Service bridge-NAME and sends each session to the replica that owns it.
 */
export const BRIDGE_URL = `http://bridge-{name}:${RUNTIME_PORT}`;

/**
 * router.yaml: the built-in router, which always runs in Kubernetes whatever deploy.router says
 * (Traefik, when there, is the cluster's Ingress controller in front of it, not a pod of this
 * deployment): ForwardAuth to auth, each MCP endpoint to its bridge replicas, everything else
 * to auth. MCPGW_SESSION_KEY seals session ids, so every router replica routes every session.
 */
export function routerManifests(context: WorkloadContext, { image, replicas }: { image: string; replicas: number }): Manifest[] {
  return edgeRuntimeManifests(context, {
    role: 'router',
    service: ROUTER_SERVICE,
    image,
    replicas,
    port: ROUTER_PORT,
    listen: DEFAULT_ROUTER_LISTEN,
    env: [
      env('MCPGW_AUTH_URL', AUTH_URL),
      env('MCPGW_BRIDGE_URL', BRIDGE_URL),
      // Its own metrics and, at /metrics/bridge-NAME, each networked bridge's.
      env('MCPGW_METRICS_LISTEN', `0.0.0.0:${METRICS_PORT}`),
    ],
    comments: {
      service: 'The router: where the Ingress sends every request (ingress.yaml).',
      deployment: "/health is auth's: a router that cannot reach auth admits no request.",
    },
  });
}
