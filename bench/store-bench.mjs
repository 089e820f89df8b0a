// The store under the auth runtime's two write-heavy shapes, on the embedded SQLite store and on
// a private redis-server (as the Docker deployment runs it: --appendonly yes, fsync every second):
//   registrations  one client record written (`set` with a TTL), as POST /register does
//   refreshes      a rotation: take the old refresh token, store the new one, mark the old one
//                  used and update the family, as grant_type=refresh_token does
// Operations/s with IN_FLIGHT callers at once (closed loops), p50/p99 ms with one caller.
// The SQLite store fsyncs every commit (synchronous=FULL) and batches one tick's operations.
//   node bench/store-bench.mjs [--quick]     (or as part of npm run bench)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createRedisStore } from '../dist/runtime/store/redis-store.js';
import { createSqliteStore } from '../dist/runtime/store/sqlite-store.js';
import { sleep } from './measure.mjs';

const IN_FLIGHT = 16;
const DAY_MS = 86_400_000;
const log = (line) => process.stderr.write(`${line}\n`);

const id = () => randomBytes(16).toString('base64url');
const clientRecord = (clientId) => ({
  clientId,
  clientName: 'Claude',
  redirectUris: ['https://claude.ai/api/mcp/auth_callback'],
  grantTypes: ['authorization_code', 'refresh_token'],
  tokenEndpointAuthMethod: 'none',
  registeredAt: Date.now(),
});

/** One registration: a client record with the unused-client TTL. */
const register = (store) => {
  const clientId = id();
  return store.set(`client:${clientId}`, clientRecord(clientId), { ttlMs: DAY_MS });
};

/** A caller that holds one refresh token and rotates it on every call (a read-modify-write). */
async function refresher(store) {
  const familyId = id();
  let token = id();
  await store.set(`family:${familyId}`, { familyId, clientId: 'c', sub: 'github:1', generation: 0 }, { ttlMs: 30 * DAY_MS });
  await store.set(`refresh:${token}`, { familyId, generation: 0 }, { ttlMs: 30 * DAY_MS });
  return async () => {
    const grant = await store.take(`refresh:${token}`);
    if (grant === undefined) throw new Error('refresh token vanished');
    const next = id();
    const generation = grant.generation + 1;
    await Promise.all([
      store.set(`refresh:${next}`, { familyId, generation }, { ttlMs: 30 * DAY_MS }),
      store.set(`refresh-used:${token}`, { familyId, at: Date.now() }, { ttlMs: 30 * DAY_MS }),
      store.set(`family:${familyId}`, { familyId, clientId: 'c', sub: 'github:1', generation, refreshedAt: Date.now() }, { ttlMs: 30 * DAY_MS }),
    ]);
    token = next;
  };
}

async function rate(calls, durationMs) {
  let stop = false;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    calls.map(async (call) => {
      while (!stop) {
        await call();
        done++;
        if (performance.now() - started >= durationMs) stop = true;
      }
    }),
  );
  return (done / (performance.now() - started)) * 1000;
}

async function latency(call, count) {
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call();
    samples[i] = performance.now() - started;
  }
  samples.sort();
  const at = (p) => samples[Math.min(count - 1, Math.floor(p * count))];
  return { p50: at(0.5), p99: at(0.99) };
}

async function measure(name, store, { durationMs, count }) {
  const result = {};
  log(`store: ${name}, registrations`);
  await rate(
    Array.from({ length: IN_FLIGHT }, () => () => register(store)),
    durationMs / 3,
  ); // warm-up
  result.registrations = {
    perSecond: await rate(
      Array.from({ length: IN_FLIGHT }, () => () => register(store)),
      durationMs,
    ),
    ...(await latency(() => register(store), count)),
  };
  log(`store: ${name}, refreshes`);
  const callers = await Promise.all(Array.from({ length: IN_FLIGHT }, () => refresher(store)));
  await rate(callers, durationMs / 3);
  const single = await refresher(store);
  result.refreshes = { perSecond: await rate(callers, durationMs), ...(await latency(single, count)) };
  return result;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A private redis-server with the deployment's persistence (AOF, fsync every second), stopped by its PID. */
async function startRedis(dir) {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('error', () => {});
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const probe = await createRedisStore({ url, keyPrefix: 'probe:', connectTimeoutMs: 500 });
      await probe.close();
      break;
    } catch (err) {
      if (attempt > 20 || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw err;
      }
      await sleep(100);
    }
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs the store benchmark; resolves the figures and a markdown table. Redis is skipped (n/a) when redis-server is missing. */
export async function runStoreBench({ quick = false } = {}) {
  const timing = quick ? { durationMs: 1_000, count: 500 } : { durationMs: 3_000, count: 2_000 };
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-store-bench-'));
  const results = {};
  try {
    const sqlite = await createSqliteStore({ path: join(dir, 'store.sqlite') });
    try {
      results.sqlite = await measure('sqlite', sqlite, timing);
    } finally {
      await sqlite.close();
    }
    let redis;
    try {
      redis = await startRedis(dir);
    } catch (err) {
      log(`store: no Redis (${err.message}); skipping it`);
    }
    if (redis) {
      const store = await createRedisStore({ url: redis.url, keyPrefix: 'bench:' });
      try {
        results.redis = await measure('redis', store, timing);
      } finally {
        await store.close();
        await redis.stop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const fmt = (n, digits = 0) => (n === undefined ? 'n/a' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  const row = (label, r) => `| ${label} | ${fmt(r?.perSecond)} | ${fmt(r?.p50, 3)} | ${fmt(r?.p99, 3)} |`;
  const table = [
    `| store operation | per second, ${IN_FLIGHT} in flight | p50 ms, 1 in flight | p99 ms, 1 in flight |`,
    '|---|---:|---:|---:|',
    row('SQLite (WAL, synchronous=FULL): registration', results.sqlite?.registrations),
    row('SQLite (WAL, synchronous=FULL): refresh rotation', results.sqlite?.refreshes),
    row('Redis (AOF, fsync every second): registration', results.redis?.registrations),
    row('Redis (AOF, fsync every second): refresh rotation', results.redis?.refreshes),
  ];
  return { results, table };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await runStoreBench({ quick: process.argv.includes('--quick') });
  console.log(table.join('\n'));
}
