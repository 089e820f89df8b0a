import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { ContainerLimits } from '../container-limits.js';

/**
 * Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity) from the typed values
 * of the config: CPUs as millicores, bytes in the largest binary unit that divides them.
 */
export function cpuQuantity(cpus: number): string {
  const milli = Math.max(1, Math.round(cpus * 1000));
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

export function memoryQuantity(bytes: number): string {
  for (const [unit, size] of [
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** What auth, the router and Redis get: one Node process each (Redis holds the grants and sessions, small keys). */
export const RUNTIME_RESOURCES: IResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '1', memory: '512Mi' },
};

/** A bridge's share when it is idle, so a node is not reserved for the limit of every server. */
const BRIDGE_REQUESTS = { cpus: 0.1, memoryBytes: 128 * 1024 ** 2 };

/**
 * A bridge's limits are `servers.NAME.limits` (defaults in container-limits.ts), as compose's
 * mem_limit and cpus; its requests are small and never above the limits. Kubernetes has no
 * per-pod process limit in the pod spec (the kubelet's podPidsLimit is the node's setting), so
 * `limits.pids` is not rendered.
 */
export function bridgeResources(limits: ContainerLimits): IResourceRequirements {
  return {
    requests: {
      cpu: cpuQuantity(Math.min(BRIDGE_REQUESTS.cpus, limits.cpus)),
      memory: memoryQuantity(Math.min(BRIDGE_REQUESTS.memoryBytes, limits.memoryBytes)),
    },
    limits: { cpu: cpuQuantity(limits.cpus), memory: memoryQuantity(limits.memoryBytes) },
  };
}
