import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { gatewayUrls, type GatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { generateStoredKey } from '../../runtime/auth/tokens/signing-keys.js';
import { parseConfig } from '../../runtime/config/load-config.js';
import { startAuthRuntimeFromEnv } from '../../runtime/entrypoints/auth-runtime.js';
import type { RunningRuntime } from '../../runtime/entrypoints/http-runtime.js';
import { startGitHubStandIn, type GitHubStandIn } from '../github-stand-in/github-stand-in.js';
import { ECHO_FIXTURE } from './gateway-harness.js';
import { freePort } from './free-port.js';
import { logRecords } from './log-records.js';

export type ReplicaName = 'a' | 'b';

/** One `mcp-gateway runtime auth`, started in this process from its environment as the container is. */
export interface AuthReplica {
  name: ReplicaName;
  /** Its own address, for calls a test sends to this replica directly (as the router would). */
  url: string;
  /** The JSON log lines it wrote (the local provider's one-time codes among them). */
  logLines(): Array<Record<string, unknown>>;
}

/**
 * The router in front of the replicas, at the public URL: the browser's requests (and GitHub's
 * redirect back) reach whichever replica `route` names, with X-Forwarded-For set as the real
 * router sets it. One origin for both replicas, so the browser's cookies go to both.
 */
export interface ReplicaRouter {
  /** `round-robin` alternates per request, like a router spreading load. */
  route(to: ReplicaName | 'round-robin'): void;
  /** Which replica answered each request, in order. */
  served: Array<{ replica: ReplicaName; method: string; path: string }>;
  /** The replica that answered the last request for `path`. */
  lastServedBy(path: string): ReplicaName | undefined;
}

export interface AuthReplicas {
  a: AuthReplica;
  b: AuthReplica;
  router: ReplicaRouter;
  github: GitHubStandIn;
  /** The gateway's public URLs (the router's), as the config gives them. */
  urls: GatewayUrls;
  keyPrefix: string;
  close(): Promise<void>;
}

/**
 * Two auth runtimes (`startAuthRuntimeFromEnv`, what `mcp-gateway runtime auth` runs) on one
 * config with `store: redis` and one key prefix, the same signing keys and state key, and
 * nothing else in common: each has its own Redis connection, express app, caches and counters.
 * The GitHub stand-in is the provider unless `config` names another. `config` is merged over the
 * defaults (top-level keys replace).
 */
export async function startAuthReplicas({ redisUrl, config = {} }: { redisUrl: string; config?: Record<string, unknown> }): Promise<AuthReplicas> {
  const github = await startGitHubStandIn();
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-replicas-'));
  const keyPrefix = `mcpgw-replicas-${randomBytes(6).toString('hex')}:`;
  const cleanups: Array<() => Promise<void>> = [() => github.close(), () => rm(dir, { recursive: true, force: true })];
  const closeAll = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const routerPort = await freePort();
    const raw = {
      version: 1,
      publicUrl: `http://127.0.0.1:${routerPort}`,
      provider: { type: 'github', clientId: 'test-client-id', url: github.url },
      allowedUsers: ['alice'],
      store: { type: 'redis', url: redisUrl, keyPrefix },
      servers: { echo: { command: process.execPath, args: [ECHO_FIXTURE] } },
      ...config,
    };
    const path = join(dir, 'mcp-gateway.yaml');
    await writeFile(path, stringify(raw));
    const env = {
      MCPGW_CONFIG: path,
      MCPGW_LISTEN: '127.0.0.1:0',
      MCPGW_SIGNING_KEYS: JSON.stringify({ version: 1, keys: [await generateStoredKey()] }),
      MCPGW_STATE_KEY: randomBytes(32).toString('base64url'),
      MCPGW_GITHUB_CLIENT_SECRET: 'test-client-secret',
    };
    const replicas = {} as Record<ReplicaName, AuthReplica>;
    for (const name of ['a', 'b'] as const) {
      const { logger, records } = logRecords();
      // A secrets directory that does not exist: everything comes from the environment.
      const runtime: RunningRuntime = await startAuthRuntimeFromEnv({ env, logger, secretsDir: join(dir, 'no-secrets') });
      cleanups.push(() => runtime.close());
      replicas[name] = {
        name,
        url: `http://127.0.0.1:${runtime.address.port}`,
        logLines: () => records,
      };
    }
    const router = await startReplicaRouter(routerPort, replicas);
    cleanups.push(router.close);
    cleanups.push(() => deleteKeys(redisUrl, keyPrefix));
    return { ...replicas, router, github, urls: gatewayUrls(parseConfig(raw, 'replica config')), keyPrefix, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function startReplicaRouter(port: number, replicas: Record<ReplicaName, AuthReplica>): Promise<ReplicaRouter & { close(): Promise<void> }> {
  let policy: ReplicaName | 'round-robin' = 'a';
  let turn = 0;
  const served: ReplicaRouter['served'] = [];
  const pick = (): ReplicaName => {
    if (policy !== 'round-robin') return policy;
    turn++;
    return turn % 2 === 1 ? 'a' : 'b';
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const replica = pick();
    served.push({ replica, method: req.method ?? 'GET', path: (req.url ?? '/').split('?', 1)[0]! });
    const target = new URL(req.url ?? '/', replicas[replica].url);
    const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1', connection: 'close' };
    const upstream = request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`replica router: ${err.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    route(to) {
      policy = to;
      turn = 0;
    },
    served,
    lastServedBy: (path) => served.findLast((s) => s.path === path)?.replica,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Leaves a shared REDIS_URL as it was found. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
      if ((batch as string[]).length > 0) await redis.del(...(batch as string[]));
    }
  } finally {
    redis.disconnect();
  }
}
