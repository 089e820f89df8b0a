import { lookup as dnsLookup } from 'node:dns/promises';
import { createServer } from 'node:net';
import { connectDocker } from '../deploy/docker/docker-connection.js';
import { LABEL_PROJECT } from '../deploy/docker/labels.js';
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
  // docker-modem's default socket path is an async function; connectDocker's endpoint then reads
  // "unix://[object Promise]". After a ping the modem has resolved it.
  const modem = docker.modem as unknown as { getSocketPath?: () => Promise<string> | undefined };
  const socketPath = await modem.getSocketPath?.();
  return {
    endpoint: socketPath ? `unix://${socketPath}` : endpoint,
    local,
    async projectContainers(project) {
      const running = await docker.listContainers({ filters: { label: [`${LABEL_PROJECT}=${project}`] } });
      return running.map((c) => ({
        name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
        ports: (c.Ports ?? []).filter((p) => p.PublicPort !== undefined).map((p) => ({ hostIp: p.IP ?? '', port: p.PublicPort, protocol: p.Type })),
      }));
    },
  };
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
