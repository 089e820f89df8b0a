import type { ComposeBuild, Healthcheck, Mount } from '../docker/compose-model.js';

/**
 * The swarm deployment as `up --target swarm` sees it: stack.yaml read, interpolated, validated
 * and normalised (names resolved as `docker stack deploy PROJECT` resolves them, durations in
 * nanoseconds, sizes in bytes, paths absolute). Everything past `loadStack` works on these types.
 */
export interface StackProject {
  /** The stack namespace: every object is `<name>_<key>`. */
  name: string;
  /** The folder holding stack.yaml; `file:` paths are resolved against it. */
  dir: string;
  services: StackService[];
  networks: Record<string, StackNetwork>;
  volumes: Record<string, StackVolume>;
  secrets: Record<string, StackFileObject>;
  configs: Record<string, StackFileObject>;
  /** `x-build`: image tag -> its build from build/. */
  builds: Record<string, ComposeBuild>;
  /** Interpolated variables that were unset (stack deploy leaves them empty too). */
  unsetVariables: string[];
}

export interface StackNetwork {
  name: string;
  labels: Record<string, string>;
  attachable: boolean;
  internal: boolean;
}

export interface StackVolume {
  name: string;
  driver?: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

/** A secret or config: its content is a file of the deploy folder. */
export interface StackFileObject {
  name: string;
  /** Absolute. */
  path: string;
  labels: Record<string, string>;
}

export interface StackReference {
  /** Key in stack.yaml's secrets/configs. */
  source: string;
  /** File name under /run/secrets (secrets) or absolute path (configs). */
  target: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface StackUpdateConfig {
  parallelism: number;
  delayNs?: number;
  order: 'start-first' | 'stop-first';
  failureAction?: 'pause' | 'continue' | 'rollback';
  monitorNs?: number;
  maxFailureRatio?: number;
}

export interface StackService {
  /** Key in stack.yaml (redis, auth, router, bridge-NAME): the DNS alias on every network it joins. */
  key: string;
  /** The swarm service: `<project>_<key>`. */
  name: string;
  image: string;
  command?: string[];
  entrypoint?: string[];
  user?: string;
  workingDir?: string;
  environment: Record<string, string>;
  /** `labels:`, on each task's container. */
  containerLabels: Record<string, string>;
  /** `deploy.labels`, on the service. */
  serviceLabels: Record<string, string>;
  init?: boolean;
  readOnly?: boolean;
  capDrop: string[];
  capAdd: string[];
  mounts: Mount[];
  /** Network keys, in file order. */
  networks: string[];
  ports: Array<{ target: number; published?: number; protocol: 'tcp' | 'udp'; mode: 'host' | 'ingress' }>;
  healthcheck?: Healthcheck;
  secrets: StackReference[];
  configs: StackReference[];
  stopGracePeriodNs?: number;
  replicas: number;
  endpointMode: 'vip' | 'dnsrr';
  updateConfig?: StackUpdateConfig;
  rollbackConfig?: StackUpdateConfig;
  restartPolicy?: { condition?: 'none' | 'on-failure' | 'any'; delayNs?: number; maxAttempts?: number; windowNs?: number };
  limits?: { nanoCpus?: number; memoryBytes?: number; pids?: number };
  placement?: { constraints: string[]; maxReplicas?: number };
}
