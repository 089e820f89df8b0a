/**
 * The deployment as `up` sees it: compose.yaml read, interpolated, validated and normalised
 * (short syntaxes expanded, paths absolute, names resolved). Everything past
 * `loadComposeProject` works on these types only.
 */
export interface ComposeProject {
  /** `name:` of compose.yaml: prefixes containers, network and volumes. */
  name: string;
  /** The folder holding compose.yaml; relative paths in it are resolved against this. */
  dir: string;
  /** In file order, which `up` keeps where depends_on leaves a choice. */
  services: ComposeService[];
  networks: Record<string, ComposeResource>;
  volumes: Record<string, ComposeResource>;
  /** Interpolated variables that were unset (compose warns about them too). */
  unsetVariables: string[];
}

export interface ComposeResource {
  /** The Docker object's name (`<project>_<key>` unless `name:` or external). */
  name: string;
  driver?: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
  external: boolean;
  /** Networks: `internal: true`, no route out (for volumes always false). */
  internal: boolean;
}

export interface ComposeBuild {
  /** Absolute path of the build context. */
  context: string;
  /** Relative to the context. */
  dockerfile: string;
  args: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
}

export interface PortMapping {
  target: number;
  /** Host port; undefined = Docker picks one. */
  published?: number;
  /** Host address; undefined = all addresses. */
  hostIp?: string;
  protocol: 'tcp' | 'udp';
}

export type Mount =
  | { type: 'volume'; source?: string; target: string; readOnly: boolean; noCopy: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean; createHostPath: boolean }
  | { type: 'tmpfs'; target: string; sizeBytes?: number; mode?: number };

export interface Healthcheck {
  /** Docker's form: ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]. */
  test: string[];
  intervalNs?: number;
  timeoutNs?: number;
  startPeriodNs?: number;
  startIntervalNs?: number;
  retries?: number;
}

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ComposeService {
  name: string;
  image: string;
  build?: ComposeBuild;
  pullPolicy?: 'always' | 'never' | 'missing' | 'build';
  containerName: string;
  hostname?: string;
  command?: string[];
  entrypoint?: string[];
  /** `environment:` only; env files are read when the container is created. */
  environment: Record<string, string>;
  /** Absolute paths, in order (later files override earlier ones, `environment:` overrides all). */
  envFiles: Array<{ path: string; required: boolean }>;
  ports: PortMapping[];
  expose: string[];
  mounts: Mount[];
  /** Network keys of `ComposeProject.networks`, each with its DNS aliases (the service name first); empty with `networkMode: 'none'`. */
  networks: Array<{ key: string; aliases: string[] }>;
  /** `network_mode: none`: no network at all, only a loopback interface (no default network either). */
  networkMode?: 'none';
  labels: Record<string, string>;
  healthcheck?: Healthcheck;
  dependsOn: Array<{ service: string; condition: DependencyCondition; required: boolean }>;
  restart?: { name: 'no' | 'always' | 'unless-stopped' | 'on-failure'; maximumRetryCount?: number };
  user?: string;
  workingDir?: string;
  readOnly?: boolean;
  init?: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  stopGracePeriodNs?: number;
  stopSignal?: string;
  extraHosts: string[];
  logging?: { driver?: string; options: Record<string, string> };
  memLimitBytes?: number;
  /** `cpus:` in billionths of a CPU, as Docker's NanoCpus. */
  nanoCpus?: number;
  pidsLimit?: number;
}
