import { AUTH_URL, RUNTIME_PORT } from '../../../runtime/http/edge-contract.js';
import { DEFAULT_ROUTER_LISTEN } from '../../../runtime/entrypoints/runtime-env.js';
import { METRICS_PORT } from '../../../runtime/entrypoints/runtime-metrics.js';
import { GATEWAY_CONFIG_MAP, ROUTER_SERVICE, serviceLabels } from './kubernetes-names.js';
import type { Manifest } from './manifest-yaml.js';
import { RUNTIME_RESOURCES } from './resource-quantities.js';
import {
  CONFIG_DIR,
  CONFIG_MOUNT,
  configVolume,
  deployment,
  disruptionBudget,
  ENDPOINT_PROPAGATION_SECONDS,
  env,
  healthProbes,
  podSpec,
  runtimeCommand,
  runtimePorts,
  secretEnv,
  service,
  TMP_MOUNT,
  TMP_VOLUME,
  type WorkloadContext,
} from './workload-parts.js';

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
  const labels = serviceLabels(context.namespace, 'router', ROUTER_SERVICE);
  const spec = podSpec(context, ROUTER_SERVICE, {
    containers: [
      {
        name: 'router',
        image,
        command: runtimeCommand('router'),
        env: [
          env('MCPGW_CONFIG', `${CONFIG_DIR}/mcp-gateway.yaml`),
          env('MCPGW_LISTEN', DEFAULT_ROUTER_LISTEN),
          env('MCPGW_AUTH_URL', AUTH_URL),
          env('MCPGW_BRIDGE_URL', BRIDGE_URL),
          // Its own metrics and, at /metrics/bridge-NAME, each networked bridge's.
          env('MCPGW_METRICS_LISTEN', `0.0.0.0:${METRICS_PORT}`),
          ...secretEnv(context, ROUTER_SERVICE),
        ],
        ports: runtimePorts(ROUTER_PORT, METRICS_PORT),
        ...healthProbes(30),
        lifecycle: { preStop: { sleep: { seconds: ENDPOINT_PROPAGATION_SECONDS } } },
        resources: RUNTIME_RESOURCES,
        volumeMounts: [CONFIG_MOUNT, TMP_MOUNT],
      },
    ],
    volumes: [configVolume(GATEWAY_CONFIG_MAP), TMP_VOLUME],
  });
  return [
    {
      comment: 'The router: where the Ingress sends every request (ingress.yaml).',
      object: service(context, { name: ROUTER_SERVICE, labels, ports: { http: ROUTER_PORT } }),
    },
    {
      comment: "/health is auth's: a router that cannot reach auth admits no request.",
      object: deployment(context, { service: ROUTER_SERVICE, labels, replicas, spec }),
    },
    { comment: 'At most one router pod down at a time for node drains.', object: disruptionBudget(context, ROUTER_SERVICE, labels) },
  ];
}
