import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IContainerPort } from 'kubernetes-models/v1/ContainerPort';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { BRIDGE_TMP_BYTES } from '../container-limits.js';
import { CONFIG_FILE_KEY, secretName, selectorLabels } from './kubernetes-names.js';
import { containerSecurityContext, podSecurityContext, type RuntimeIds } from './pod-security.js';
import { memoryQuantity } from './resource-quantities.js';

/** What every workload file is built from: the namespace, the pods' ids, the secrets each service reads. */
export interface WorkloadContext {
  namespace: string;
  ids: RuntimeIds;
  /** Variable names per service, as in `secrets/<service>.env`; the values never reach a manifest. */
  secretNames: ReadonlyMap<string, readonly string[]>;
}

export const NODE = '/usr/local/bin/node';
export const CLI = '/app/bin/mcp-gateway.js';
export const CONFIG_DIR = '/config';

/**
 * Seconds a terminating auth or router pod keeps taking requests before its SIGTERM: the
 * Service's endpoints and the Ingress controller learn of the pod going away a moment after it
 * starts to, and the runtime answers requests that arrive after SIGTERM with 503.
 */
export const ENDPOINT_PROPAGATION_SECONDS = 5;

export function env(name: string, value: string): IEnvVar {
  return { name, value };
}

/** The service's secrets, each variable by name from the Secret kustomize generates (so `kubectl describe` shows names, never values). */
export function secretEnv(context: WorkloadContext, service: string): IEnvVar[] {
  return (context.secretNames.get(service) ?? []).map((name) => ({ name, valueFrom: { secretKeyRef: { name: secretName(service), key: name } } }));
}

/**
 * The probes of a runtime on its named `http` port. `/health` is liveness; `/health?ready=1`
 * readiness, where a draining bridge answers 503 so the Service (and the router's DNS lookup of
 * it) stops offering it while it still serves its sessions. The startup probe holds both off
 * while npx or uvx downloads a server (compose's start_period).
 */
export function healthProbes(startupSeconds: number): Pick<IContainer, 'startupProbe' | 'livenessProbe' | 'readinessProbe'> {
  const get = (path: string): Pick<IProbe, 'httpGet'> => ({ httpGet: { path, port: 'http' } });
  return {
    startupProbe: { ...get('/health'), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: Math.ceil(startupSeconds / 5) },
    livenessProbe: { ...get('/health'), periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
    readinessProbe: { ...get('/health?ready=1'), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 2 },
  };
}

/** The root filesystem is read-only; node, npx and uvx want a writable /tmp (memory-backed and bounded, as compose's tmpfs). */
export const TMP_VOLUME: IVolume = { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: memoryQuantity(BRIDGE_TMP_BYTES) } };
export const TMP_MOUNT: IVolumeMount = { name: 'tmp', mountPath: '/tmp' };

/** A config ConfigMap (kustomize appends its content hash to the name, so a changed config rolls the pods). */
export function configVolume(configMap: string): IVolume {
  return { name: 'config', configMap: { name: configMap, items: [{ key: CONFIG_FILE_KEY, path: CONFIG_FILE_KEY }] } };
}
export const CONFIG_MOUNT: IVolumeMount = { name: 'config', mountPath: CONFIG_DIR, readOnly: true };

/** Container ports by name: probes and Services refer to `http`; `metrics` is GET /metrics without authentication. */
export function runtimePorts(port: number, metricsPort: number): IContainerPort[] {
  return [
    { name: 'http', containerPort: port, protocol: 'TCP' },
    { name: 'metrics', containerPort: metricsPort, protocol: 'TCP' },
  ];
}

/**
 * A pod of the restricted profile (pod-security.ts) that talks to no Kubernetes API (no service
 * account token) and gets no `*_SERVICE_HOST` variables, which would reach a bridge's children.
 * Replicas are spread over nodes where the scheduler can.
 */
export function podSpec(
  context: WorkloadContext,
  service: string,
  spec: Omit<IPodSpec, 'securityContext' | 'containers'> & { containers: Array<IContainer & { image: string }> },
): IPodSpec {
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurityContext(context.ids),
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorLabels(service) } },
    ],
    ...spec,
    // The runtime images' tags carry their build context's hash: a pulled tag never changes.
    containers: spec.containers.map(({ name, image, ...rest }) => ({
      name,
      image,
      imagePullPolicy: 'IfNotPresent',
      ...rest,
      securityContext: containerSecurityContext(),
    })),
  };
}

/**
 * A Deployment that replaces a pod by starting the new one first (maxSurge 1, maxUnavailable 0):
 * the old one gets SIGTERM only once the new one is ready, so there is always a replica taking
 * new sessions while a bridge drains.
 */
export function deployment(
  context: WorkloadContext,
  { service, labels, replicas, spec }: { service: string; labels: Record<string, string>; replicas: number; spec: IPodSpec },
): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: service, namespace: context.namespace, labels },
    spec: {
      replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(service) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels }, spec },
    },
  };
}

/**
 * At most one pod of the service down for a node drain or an upgrade. maxUnavailable rather
 * than minAvailable: with one replica, minAvailable 1 would block every drain of its node for good.
 */
export function disruptionBudget(context: WorkloadContext, service: string, labels: Record<string, string>): IPodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: service, namespace: context.namespace, labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(service) } },
  };
}

/** A Service of named container ports; `headless` gives every ready pod its own address under the name instead of one virtual IP. */
export function service(
  context: WorkloadContext,
  { name, labels, ports, headless = false }: { name: string; labels: Record<string, string>; ports: Record<string, number>; headless?: boolean },
): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: context.namespace, labels },
    spec: {
      ...(headless ? { clusterIP: 'None' } : { type: 'ClusterIP' }),
      selector: selectorLabels(name),
      ports: Object.entries(ports).map(([portName, port]) => ({ name: portName, port, targetPort: portName, protocol: 'TCP' })),
    },
  };
}

export function runtimeCommand(...args: string[]): string[] {
  return [NODE, CLI, 'runtime', ...args];
}
