import { RUNTIME_PORT } from '../../../runtime/http/edge-contract.js';
import { METRICS_PORT } from '../../../runtime/entrypoints/runtime-metrics.js';
import { AUTH_SERVICE, GATEWAY_CONFIG_MAP, serviceLabels } from './kubernetes-names.js';
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

/**
 * auth.yaml: the authorization server and ForwardAuth `/verify` (the compose `auth` service),
 * `deploy.replicas.auth` of them behind the Service `auth`, which only the router reaches. Its
 * secrets are compose's secrets/auth.env: the signing keys, the state key, the Redis password,
 * the admin token and the login provider's client secret.
 */
export function authManifests(context: WorkloadContext, { image, replicas }: { image: string; replicas: number }): Manifest[] {
  const labels = serviceLabels(context.namespace, 'auth', AUTH_SERVICE);
  const spec = podSpec(context, AUTH_SERVICE, {
    containers: [
      {
        name: 'auth',
        image,
        command: runtimeCommand('auth'),
        env: [
          env('MCPGW_CONFIG', `${CONFIG_DIR}/mcp-gateway.yaml`),
          env('MCPGW_LISTEN', `0.0.0.0:${RUNTIME_PORT}`),
          // GET /metrics without authentication; the NetworkPolicies let no one in on it unless the operator adds a rule.
          env('MCPGW_METRICS_LISTEN', `0.0.0.0:${METRICS_PORT}`),
          ...secretEnv(context, AUTH_SERVICE),
        ],
        ports: runtimePorts(RUNTIME_PORT, METRICS_PORT),
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
      comment: 'The auth runtime: OAuth endpoints and /verify, reached by the router only (network-policies.yaml).',
      object: service(context, { name: AUTH_SERVICE, labels, ports: { http: RUNTIME_PORT } }),
    },
    {
      comment: '/health answers 503 while Redis is unreachable, so no login goes to a replica that would fail it.',
      object: deployment(context, { service: AUTH_SERVICE, labels, replicas, spec }),
    },
    { comment: 'At most one auth pod down at a time for node drains.', object: disruptionBudget(context, AUTH_SERVICE, labels) },
  ];
}
