import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { METRICS_PORT } from '../../../runtime/entrypoints/runtime-metrics.js';
import { GATEWAY_CONFIG_MAP, serviceLabels } from './kubernetes-names.js';
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

/** What sets the auth runtime and the router apart; the rest of their manifests is the same. */
export interface EdgeRuntime {
  /** The runtime the CLI starts (`mcp-gateway runtime ROLE`) and the container's name. */
  role: 'auth' | 'router';
  /** The Service and Deployment name. */
  service: string;
  image: string;
  replicas: number;
  /** The port the runtime listens on, and the Service's `http` port. */
  port: number;
  /** Its MCPGW_LISTEN. */
  listen: string;
  /** Its environment beyond the config path, the listen address, metrics and secrets. */
  env: IEnvVar[];
  /** A comment over each object, saying what it is there for. */
  comments: { service: string; deployment: string };
}

/**
 * A Service, a Deployment and a PodDisruptionBudget for auth or the router: the gateway's
 * config mounted read-only, a memory /tmp, its secrets from its env Secret, metrics on
 * METRICS_PORT, and a preStop pause so endpoints drop a pod before it stops taking requests.
 */
export function edgeRuntimeManifests(context: WorkloadContext, runtime: EdgeRuntime): Manifest[] {
  const labels = serviceLabels(context.namespace, runtime.role, runtime.service);
  const spec = podSpec(context, runtime.service, {
    containers: [
      {
        name: runtime.role,
        image: runtime.image,
        command: runtimeCommand(runtime.role),
        env: [
          env('MCPGW_CONFIG', `${CONFIG_DIR}/mcp-gateway.yaml`),
          env('MCPGW_LISTEN', runtime.listen),
          ...runtime.env,
          ...secretEnv(context, runtime.service),
        ],
        ports: runtimePorts(runtime.port, METRICS_PORT),
        ...healthProbes(30),
        lifecycle: { preStop: { sleep: { seconds: ENDPOINT_PROPAGATION_SECONDS } } },
        resources: RUNTIME_RESOURCES,
        volumeMounts: [CONFIG_MOUNT, TMP_MOUNT],
      },
    ],
    volumes: [configVolume(GATEWAY_CONFIG_MAP), TMP_VOLUME],
  });
  return [
    { comment: runtime.comments.service, object: service(context, { name: runtime.service, labels, ports: { http: runtime.port } }) },
    { comment: runtime.comments.deployment, object: deployment(context, { service: runtime.service, labels, replicas: runtime.replicas, spec }) },
    {
      comment: `At most one ${runtime.role} pod down at a time for node drains.`,
      object: disruptionBudget(context, runtime.service, labels),
    },
  ];
}
