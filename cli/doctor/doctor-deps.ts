import { lookup as dnsLookup } from 'node:dns/promises';
import { createServer } from 'node:net';
import type Docker from 'dockerode';
import { imageId } from '../deploy/docker/ensure-images.js';
import { LABEL_PROJECT } from '../deploy/docker/labels.js';
import { listProjectContainers } from '../deploy/docker/project-containers.js';
import { connectDocker } from '../deploy/docker/docker-connection.js';
import { createRedisStore } from '../../runtime/store/redis-store.js';
import { hostSandbox, type SandboxAvailability } from '../../runtime/bridge/sandbox/sandbox-probe.js';

/**
 * Everything the doctor's checks reach outside the process with. Passed in, so a test can put
 * a fake DNS, Docker or GitHub behind a check without module mocks; `defaultDoctorDeps()` is the
 * real machine.
 */
export interface DoctorDeps {
  fetch: typeof fetch;
  /** Every address of `host` (A and AAAA), as DNS answers; rejects with the resolver's error (`ENOTFOUND`...). */
  lookup(host: string): Promise<Array<{ address: string; family: number }>>;
  /** Connects to and pings the Docker engine; rejects with a GatewayError `ERR_DOCKER_UNREACHABLE` naming the fix. */
  connectDocker(timeoutMs: number): Promise<DoctorDockerEngine>;
  /** Binds `host:port` for a moment. */
  bindTest(host: string, port: number): Promise<BindOutcome>;
  /** Connects to Redis and pings it; rejects with a GatewayError (`ERR_STORE_UNREACHABLE`) otherwise. */
  pingRedis(options: { url: string; password?: string; keyPrefix: string; timeoutMs: number }): Promise<void>;
  now(): number;
  /** The environment stdio servers inherit from (PATH, HOME, proxies) and commands are looked up in. */
  env: NodeJS.ProcessEnv;
  /** Per network check (Docker ping, DNS, GitHub, OIDC discovery, Redis, remote servers). */
  timeoutMs: number;
  /** How long a stdio server may take to answer `initialize` (`npx`/`uvx` may download first). */
  serverTimeoutMs: number;
  /** The host's OS sandbox for stdio servers (bubblewrap, sandbox-exec), as `serve` finds it. */
  sandbox(): SandboxAvailability;
}

export type BindOutcome = 'free' | 'in-use' | 'denied' | 'not-local';

export interface DoctorDockerEngine {
  /** `unix:///var/run/docker.sock`, `tcp://host:2375`. */
  endpoint: string;
  /** The engine runs on this machine, so its published ports are this machine's. */
  local: boolean;
  /** Running containers labelled `io.mcp-gateway.project=<project>`, with the host ports they publish. */
  projectContainers(project: string): Promise<Array<{ name: string; ports: Array<{ hostIp: string; port: number; protocol: string }> }>>;
  /** Every container of the project, in any state, with why it stopped or is unhealthy. */
  containers(project: string): Promise<DoctorContainer[]>;
  /** The image (a tag or an ID) is on this engine. */
  hasImage(image: string): Promise<boolean>;
}

/** One container of the deployment as the doctor judges it. */
export interface DoctorContainer {
  name: string;
  /** `io.mcp-gateway.service`: redis, auth, router, traefik, bridge-NAME, relay-NAME. */
  service: string | undefined;
  /** Docker's state: running, exited, restarting, created, paused, dead. */
  state: string;
  /** From the healthcheck; undefined without one or when not running. */
  health: 'healthy' | 'unhealthy' | 'starting' | undefined;
  /** The last exit code, for a container that is not running. */
  exitCode: number | undefined;
  /** The output of the last failed healthcheck, or the engine's error starting it. */
  problem: string | undefined;
}

export function defaultDoctorDeps(overrides: Partial<DoctorDeps> = {}): DoctorDeps {
  return {
    fetch: globalThis.fetch,
    lookup: (host) => dnsLookup(host, { all: true, verbatim: true }),
    connectDocker: connectDockerEngine,
    bindTest,
    pingRedis,
    now: Date.now,
    sandbox: hostSandbox,
    env: process.env,
    timeoutMs: 5_000,
    serverTimeoutMs: 20_000,
    ...overrides,
  };
}

async function connectDockerEngine(timeoutMs: number): Promise<DoctorDockerEngine> {
  const { docker, local, endpoint } = await connectDocker({ timeoutMs });
  return {
    endpoint,
    local,
    containers: (project) => containersOf(docker, project),
    hasImage: async (image) => (await imageId(docker, image)) !== undefined,
    async projectContainers(project) {
      const running = await docker.listContainers({ filters: { label: [`${LABEL_PROJECT}=${project}`] } });
      return running.map((c) => ({
        name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
        ports: (c.Ports ?? []).filter((p) => p.PublicPort !== undefined).map((p) => ({ hostIp: p.IP ?? '', port: p.PublicPort, protocol: p.Type })),
      }));
    },
  };
}

/** The line a person needs from a failed healthcheck or start: the last one, shortened. */
const PROBLEM_CHARS = 300;

async function containersOf(docker: Docker, project: string): Promise<DoctorContainer[]> {
  const listed = await listProjectContainers(docker, project);
  return Promise.all(
    listed.map(async (c): Promise<DoctorContainer> => {
      const base = { name: c.name, service: c.service, state: c.state, health: c.state === 'running' ? c.health : undefined };
      if (c.state === 'running' && c.health !== 'unhealthy') return { ...base, exitCode: undefined, problem: undefined };
      // Only a container that is not well is inspected: its exit code and last healthcheck output say why.
      const { State: state } = await docker.getContainer(c.id).inspect();
      const lastCheck = state.Health?.Log?.at(-1)?.Output?.trim().split('\n').at(-1);
      const problem = c.health === 'unhealthy' ? lastCheck : state.OOMKilled ? 'killed for using more memory than its limit' : state.Error;
      return { ...base, exitCode: c.state === 'running' ? undefined : state.ExitCode, problem: problem ? problem.slice(0, PROBLEM_CHARS) : undefined };
    }),
  );
}

function bindTest(host: string, port: number): Promise<BindOutcome> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve('in-use');
      else if (err.code === 'EACCES' || err.code === 'EPERM') resolve('denied');
      else resolve('not-local');
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve('free')));
  });
}

async function pingRedis({ url, password, keyPrefix, timeoutMs }: { url: string; password?: string; keyPrefix: string; timeoutMs: number }): Promise<void> {
  const store = await createRedisStore({ url, keyPrefix, connectTimeoutMs: timeoutMs, ...(password === undefined ? {} : { password }) });
  try {
    await store.ping();
  } finally {
    await store.close();
  }
}
