import { RUNTIME_PORT } from '../../../runtime/http/edge-contract.js';
import { METRICS_PORT } from '../../../runtime/entrypoints/runtime-metrics.js';
import { edgeRuntimeManifests } from './edge-runtime-manifests.js';
import { AUTH_SERVICE } from './kubernetes-names.js';
import type { Manifest } from './manifest-yaml.js';
import { env, type WorkloadContext } from './workload-parts.js';

/**
 * auth.yaml: the authorization server and ForwardAuth `/verify` (the compose `auth` service),
 * `deploy.replicas.auth` of them behind the Service `auth`, which only the router reaches. Its
 * secrets are compose's secrets/auth.env: the signing keys, the state key, the Redis password,
 * the admin token and the login provider's client secret.
 */
export function authManifests(context: WorkloadContext, { image, replicas }: { image: string; replicas: number }): Manifest[] {
  return edgeRuntimeManifests(context, {
    role: 'auth',
    service: AUTH_SERVICE,
    image,
    replicas,
    port: RUNTIME_PORT,
    listen: `0.0.0.0:${RUNTIME_PORT}`,
    env: [
      // GET /metrics without authentication; the NetworkPolicies let no one in on it unless the operator adds a rule.
      env('MCPGW_METRICS_LISTEN', `0.0.0.0:${METRICS_PORT}`),
    ],
    comments: {
      service: 'The auth runtime: OAuth endpoints and /verify, reached by the router only (network-policies.yaml).',
      deployment: '/health answers 503 while Redis is unreachable, so no login goes to a replica that would fail it.',
    },
  });
}
