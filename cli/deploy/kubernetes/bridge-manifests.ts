import { RUNTIME_PORT } from '../../../runtime/http/edge-contract.js';
import { METRICS_PORT } from '../../../runtime/entrypoints/runtime-metrics.js';
import type { BridgePlan } from '../deploy-plan.js';
import { bridgeConfigMap, serviceLabels } from './kubernetes-names.js';
import type { Manifest } from './manifest-yaml.js';
import { bridgeResources } from './resource-quantities.js';
import {
  CONFIG_DIR,
  CONFIG_MOUNT,
  configVolume,
  deployment,
  disruptionBudget,
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
 * A bridge's data directory (its working directory and HOME, where npm's and uv's caches go):
 * an emptyDir per pod, bounded so a runaway server is evicted instead of filling the node's disk.
 */
export const BRIDGE_DATA_LIMIT = '2Gi';

/** The first `initialize` may wait for npx or uvx to download the server (compose's start_period). */
const BRIDGE_STARTUP_SECONDS = 120;

/**
 * How long Kubernetes waits after SIGTERM before it kills a bridge pod: the drain period (its
 * sessions go on, no new one comes), then the runtime's shutdown grace, and a margin for the
 * children to exit.
 */
export function bridgeGraceSeconds(drainMs: number, shutdownGraceMs: number): number {
  return Math.ceil((drainMs + shutdownGraceMs) / 1000) + 5;
}

/**
 * bridges/NAME.yaml: one server's bridge runtime, `servers.NAME.replicas` pods behind the
 * headless Service bridge-NAME, which gives the router every ready pod's own address (a session
 * lives in one pod's process). A Deployment rather than a StatefulSet: a rolling update starts
 * the new pod before the old one drains (maxSurge), which a StatefulSet cannot; so the data
 * directory is per pod and starts empty (docs/kubernetes.md says how to give it a claim).
 */
export function bridgeManifests(
  context: WorkloadContext,
  { bridge, image, drainMs, shutdownGraceMs }: { bridge: BridgePlan; image: string; drainMs: number; shutdownGraceMs: number },
): Manifest[] {
  const labels = serviceLabels(context.namespace, 'bridge', bridge.service, bridge.server);
  const spec = podSpec(context, bridge.service, {
    // The pod's pause process becomes PID 1 and reaps the grandchildren of npx/uvx launchers,
    // as compose's `init: true` does; node as PID 1 would not. The pod has no other container.
    shareProcessNamespace: true,
    terminationGracePeriodSeconds: bridgeGraceSeconds(drainMs, shutdownGraceMs),
    containers: [
      {
        name: 'bridge',
        image,
        command: runtimeCommand('bridge', bridge.server),
        workingDir: bridge.dataDir,
        env: [
          env('MCPGW_CONFIG', `${CONFIG_DIR}/mcp-gateway.yaml`),
          env('MCPGW_LISTEN', `0.0.0.0:${RUNTIME_PORT}`),
          env('MCPGW_DRAIN_MS', String(drainMs)),
          env('HOME', bridge.dataDir),
          env('UV_CACHE_DIR', `${bridge.dataDir}/.cache/uv`),
          env('MCPGW_METRICS_LISTEN', `0.0.0.0:${METRICS_PORT}`),
          ...secretEnv(context, bridge.service),
        ],
        ports: runtimePorts(RUNTIME_PORT, METRICS_PORT),
        ...healthProbes(BRIDGE_STARTUP_SECONDS),
        resources: bridgeResources(bridge.limits),
        // The same path as in compose and `serve`, so a config naming a file in it (the memory server's MEMORY_FILE_PATH) works everywhere.
        volumeMounts: [CONFIG_MOUNT, { name: 'data', mountPath: bridge.dataDir }, TMP_MOUNT],
      },
    ],
    // Its own entry of the config only: another server's env values (API keys) are not its business.
    volumes: [configVolume(bridgeConfigMap(bridge)), { name: 'data', emptyDir: { sizeLimit: BRIDGE_DATA_LIMIT } }, TMP_VOLUME],
  });
  const egress =
    bridge.relay === undefined ? 'It may reach DNS and the internet, nothing in the cluster.' : 'network: none: it has no egress at all, not even DNS.';
  return [
    {
      comment: `Headless: bridge-${bridge.server} resolves to every ready pod, each addressed by the router directly.`,
      object: service(context, { name: bridge.service, labels, ports: { http: RUNTIME_PORT, metrics: METRICS_PORT }, headless: true }),
    },
    {
      comment: `The bridge of server ${bridge.server}; only the router reaches it (network-policies.yaml). ${egress}`,
      object: deployment(context, { service: bridge.service, labels, replicas: bridge.replicas, spec }),
    },
    {
      comment: 'At most one replica down at a time for node drains; the one going drains its sessions first.',
      object: disruptionBudget(context, bridge.service, labels),
    },
  ];
}
