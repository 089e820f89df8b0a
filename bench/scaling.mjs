// Capacity on paper (docs/scaling.md): the figures a multi-replica deployment is sized from.
//   1. the router hop: the built-in router runtime (startRouterRuntime: ForwardAuth, the sealed
//      session id, the replica router) in a process of its own in front of one
//      `mcp-gateway runtime bridge echo` process; the router process's CPU µs per tools/call, on
//      2025 sessions and on 2026-07-28 stateless calls. /verify is a stand-in in this process
//      (200 + X-User-Sub), so the figure is the router's own work, not the auth runtime's.
//   2. memory: a bridge runtime process with N open 2025 sessions of the echo fixture and of the
//      one-`sed` server (SED_SERVER of bench/run.mjs), and N 2026-07-28 users of the echo
//      fixture (a child per user): the bridge's RSS growth per session and each child's RSS and
//      PSS (/proc/PID/status VmRSS, /proc/PID/smaps_rollup Pss; children by ppid).
// Everything on 127.0.0.1; every process started here is stopped by its PID.
//   npm run build && node bench/scaling.mjs [--quick] [--sessions N]
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpMcpTarget, statelessTarget } from './http-client.mjs';
import { sleep, throughput } from './measure.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../test/fixtures/echo-mcp-server.mjs', import.meta.url));
/** The same one-process stdio server as bench/run.mjs: answers initialize only. */
const SED_SERVER = {
  command: 'sed',
  args: [
    '-un',
    's/^{"jsonrpc":"2.0","id":\\([0-9]*\\),"method":"initialize".*/{"jsonrpc":"2.0","id":\\1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"sed","version":"1"}}}/p',
  ],
};

if (process.argv[2] === '--router') await routerRole();
else await main();

/** The router process: startRouterRuntime from dist/, its CPU time on request over IPC. */
async function routerRole() {
  const { startRouterRuntime } = await import('../dist/runtime/entrypoints/router-runtime.js');
  const { parseConfig } = await import('../dist/runtime/config/load-config.js');
  const { silentLogger } = await import('../dist/runtime/logger.js');
  const { config, authUrl, bridge, port, key } = JSON.parse(process.argv[3]);
  const router = await startRouterRuntime(
    {
      config: parseConfig(config, 'bench'),
      authUrl,
      bridgeUrl: 'http://bridge-{name}:8000',
      logger: silentLogger(),
      sessionKey: Buffer.from(key, 'base64url'),
      resolveReplicas: () => async () => [bridge],
    },
    { host: '127.0.0.1', port },
  );
  process.on('message', async (message) => {
    if (message?.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ type: 'cpu', us: user + system });
    } else if (message === 'stop') {
      await router.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: router.address.port ?? port });
}

async function main() {
  const quick = process.argv.includes('--quick');
  const sessionsArg = process.argv.indexOf('--sessions');
  const N = sessionsArg > 0 ? Number(process.argv[sessionsArg + 1]) : quick ? 20 : 50;
  const timing = quick ? { warmupMs: 500, durationMs: 1_500 } : { warmupMs: 1_500, durationMs: 4_000 };
  const ROUNDS = quick ? 1 : 3;
  const log = (line) => process.stderr.write(`${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-scaling-'));
  const started = [];
  const stopAll = async () => {
    for (const stop of started.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const verify = await startVerifyStandIn();
    started.push(() => new Promise((resolve) => verify.close(resolve)));

    // --- 1. the router hop -------------------------------------------------------------------
    const echoBridge = await startBridge(dir, 'echo', { command: process.execPath, args: [FIXTURE] }, started);
    const key = randomBytes(32).toString('base64url');
    const routerPort = await freePort();
    const routerConfig = baseConfig(`http://127.0.0.1:${routerPort}`, { command: process.execPath, args: [FIXTURE] });
    const router = fork(
      fileURLToPath(import.meta.url),
      ['--router', JSON.stringify({ config: routerConfig, authUrl: verify.url, bridge: `127.0.0.1:${echoBridge.port}`, port: routerPort, key })],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    started.push(() => stopForked(router));
    await new Promise((resolve, reject) => {
      router.once('message', resolve);
      router.once('exit', (code) => reject(new Error(`router process exited (${code})`)));
    });
    const routerCpu = () => ask(router, 'cpu');
    const bridgeCpu = () => procCpuUs(echoBridge.pid);
    const url = `http://127.0.0.1:${routerPort}/echo/mcp`;
    // Each session its own user (a token is a user here: the stand-in answers X-User-Sub = the bearer).
    const sessionTarget = (i) => new HttpMcpTarget(url, { authorization: `Bearer bench-${i}` });
    const targets = [];
    const sessions = [];
    for (let i = 0; i < 8; i++) {
      const target = sessionTarget(i);
      targets.push(target);
      sessions.push(await target.openSession());
    }
    const modern = [];
    for (let i = 0; i < 8; i++) {
      const target = statelessTarget(sessionTarget(100 + i));
      targets.push(target);
      modern.push(await target.openSession());
    }
    const echoCall = (session) => session.echo('hello');
    log(`router hop: warm-up`);
    await throughput(sessions, 4, echoCall, { warmupMs: quick ? 1_000 : 3_000, durationMs: 500 });
    await throughput(modern, 4, echoCall, { warmupMs: quick ? 1_000 : 3_000, durationMs: 500 });
    const hop = { session: [], stateless: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [kind, slots] of round % 2 === 0
        ? [
            ['session', sessions],
            ['stateless', modern],
          ]
        : [
            ['stateless', modern],
            ['session', sessions],
          ]) {
        // Both processes' CPU over the same window: the bridge's own (a /proc read, 10 ms ticks) for scale.
        let bridgeBefore;
        let bridgeDelta = 0;
        const r = await throughput(slots, 4, echoCall, {
          ...timing,
          cpuUs: async () => {
            const us = await routerCpu();
            if (bridgeBefore === undefined) bridgeBefore = bridgeCpu();
            else bridgeDelta = bridgeCpu() - bridgeBefore;
            return us;
          },
        });
        const bridgeUs = bridgeDelta / r.calls;
        hop[kind].push({ callsPerSecond: r.callsPerSecond, routerUs: r.cpuUsPerCall, bridgeUs });
        log(
          `  ${kind} round ${round + 1}: ${Math.round(r.callsPerSecond)} calls/s, router ${r.cpuUsPerCall.toFixed(1)} µs/call, bridge runtime ${bridgeUs.toFixed(0)} µs/call`,
        );
      }
    }
    for (const target of targets) target.close();
    await stopForked(router);

    // --- 2. memory ---------------------------------------------------------------------------
    const memory = [];
    memory.push(await sessionMemory(dir, 'echo', { command: process.execPath, args: [FIXTURE] }, N, started, log));
    memory.push(await sessionMemory(dir, 'sed', SED_SERVER, N, started, log));
    memory.push(await modernMemory(echoBridge, N, log));

    report({ hop, memory, N, quick });
  } finally {
    await stopAll();
  }
}

/** Open N 2025 sessions straight to a fresh bridge runtime (the router's X-User-Sub set by hand) and measure. */
async function sessionMemory(dir, name, launch, N, started, log) {
  const bridge = await startBridge(dir, name, launch, started);
  const target = new HttpMcpTarget(`http://127.0.0.1:${bridge.port}/mcp`, { 'x-user-sub': 'bench' });
  // A few sessions first, so the bridge's own code paths and heap are warm before the baseline.
  const warm = [];
  for (let i = 0; i < 3; i++) warm.push(await target.openSession());
  await sleep(1_000);
  const before = snapshot(bridge.pid);
  const opened = [];
  for (let i = 0; i < N; i++) opened.push(await target.openSession());
  await sleep(2_000);
  const after = snapshot(bridge.pid);
  const row = memoryRow(`2025 session, ${name}`, before, after, N);
  log(
    `  ${row.what}: bridge +${row.bridgeKb.toFixed(0)} kB/session, ${row.newChildren} new children, child RSS ${row.childRssKb.toFixed(0)} kB, PSS ${row.childPssKb.toFixed(0)} kB`,
  );
  target.close();
  await bridge.stop();
  return row;
}

/** N distinct users' 2026-07-28 calls on the echo bridge already running: one child per user. */
async function modernMemory(bridge, N, log) {
  const users = Array.from({ length: N + 3 }, (_, i) =>
    statelessTarget(new HttpMcpTarget(`http://127.0.0.1:${bridge.port}/mcp`, { 'x-user-sub': `modern-${i}` })),
  );
  for (const user of users.slice(0, 3)) await (await user.openSession()).echo('warm');
  await sleep(1_000);
  const before = snapshot(bridge.pid);
  for (const user of users.slice(3)) await (await user.openSession()).echo('hello');
  await sleep(2_000);
  const after = snapshot(bridge.pid);
  const row = memoryRow('2026-07-28 user, echo', before, after, N);
  log(
    `  ${row.what}: bridge +${row.bridgeKb.toFixed(0)} kB/user, ${row.newChildren} new children, child RSS ${row.childRssKb.toFixed(0)} kB, PSS ${row.childPssKb.toFixed(0)} kB`,
  );
  for (const user of users) user.close();
  return row;
}

function memoryRow(what, before, after, N) {
  const fresh = after.children.filter((c) => !before.children.some((b) => b.pid === c.pid));
  const sum = (list, key) => list.reduce((s, c) => s + c[key], 0);
  return {
    what,
    n: N,
    newChildren: fresh.length,
    bridgeKb: (after.rssKb - before.rssKb) / N,
    bridgeRssKb: after.rssKb,
    childRssKb: sum(fresh, 'rssKb') / Math.max(1, fresh.length),
    childPssKb: sum(fresh, 'pssKb') / Math.max(1, fresh.length),
  };
}

/** The process's RSS and its descendants' RSS and PSS, from /proc. */
function snapshot(pid) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const descendants = [];
  const walk = (p) => {
    for (const [child, parent] of parents) {
      if (parent !== p) continue;
      descendants.push(child);
      walk(child);
    }
  };
  walk(pid);
  const children = descendants.map((child) => ({ pid: child, rssKb: statusKb(child, 'VmRSS'), pssKb: pssKb(child) })).filter((c) => c.rssKb > 0);
  return { rssKb: statusKb(pid, 'VmRSS'), children };
}

function statusKb(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function pssKb(pid) {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of a process (not its children) in µs, from /proc/PID/stat (clock ticks of 10 ms). */
function procCpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function baseConfig(publicUrl, launch) {
  return {
    version: 1,
    publicUrl,
    provider: { type: 'github', clientId: 'bench-client-id' },
    allowedUsers: ['bench'],
    store: { type: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: `mcpgw-scaling-bench-${randomBytes(4).toString('hex')}:` },
    deploy: { router: 'builtin' },
    servers: { echo: { ...launch, env: {}, limits: { maxSessions: 10_000, maxSessionsPerUser: 10_000 } } },
  };
}

/** `mcp-gateway runtime bridge echo` as a container runs it, with `launch` as the server. */
async function startBridge(dir, name, launch, started) {
  const { stringify } = await import('yaml');
  const port = await freePort();
  const configPath = join(dir, `bridge-${name}.yaml`);
  writeFileSync(configPath, stringify(baseConfig(`http://127.0.0.1:${port}`, launch)));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MCPGW_') && !k.startsWith('MCP_GATEWAY_')));
  delete env['NODE_EXTRA_CA_CERTS'];
  delete env['SSL_CERT_FILE'];
  const child = spawn(process.execPath, ['bin/mcp-gateway.js', 'runtime', 'bridge', 'echo'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...env, LOG_LEVEL: 'warn', MCPGW_CONFIG: configPath, MCPGW_LISTEN: `127.0.0.1:${port}` },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  started.push(stop);
  const deadline = Date.now() + 15_000;
  let last = '';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bridge runtime exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
      // Listening is enough: the health probe's initialize is not the line the sed server matches.
      last = await res.text();
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`bridge runtime never became healthy: ${last} ${stderr}`);
    await sleep(100);
  }
  return { port, pid: child.pid, stop };
}

/** /verify stand-in: every bearer is admitted as the user it names. The real check is docs/verify-benchmark.md's. */
function startVerifyStandIn() {
  const server = createServer((req, res) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined) res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('{"error":"invalid_token"}');
    else res.writeHead(200, { 'x-user-sub': bearer, 'x-user-login': bearer, 'x-user-client-id': 'bench', 'content-length': '0' }).end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: (cb) => {
          server.closeAllConnections();
          server.close(cb);
        },
      }),
    ),
  );
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function ask(child, type) {
  return new Promise((resolve) => {
    const on = (message) => {
      if (message?.type !== type) return;
      child.off('message', on);
      resolve(message.us);
    };
    child.on('message', on);
    child.send({ type });
  });
}

async function stopForked(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function report({ hop, memory, N, quick }) {
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const f = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const lines = [];
  lines.push(`Router hop (router process alone, /verify stand-in), median of ${hop.session.length} round(s), 8 slots x 4 in flight:`);
  lines.push('| path | calls/s | router CPU µs/call | bridge runtime CPU µs/call (10 ms ticks) |');
  lines.push('| --- | ---: | ---: | ---: |');
  for (const kind of ['session', 'stateless']) {
    const rows = hop[kind];
    lines.push(
      `| ${kind === 'session' ? '2025 session' : '2026-07-28 stateless'} | ${f(median(rows.map((r) => r.callsPerSecond)))} | ${f(median(rows.map((r) => r.routerUs)), 1)} | ${f(median(rows.map((r) => r.bridgeUs)))} |`,
    );
  }
  lines.push('');
  lines.push(`Memory, ${N} sessions/users on one bridge runtime process:`);
  lines.push('| what | new children | bridge RSS growth kB/each | child RSS kB | child PSS kB | per GB (child PSS + bridge growth if > 0) |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const row of memory) {
    // The bridge's growth over N is within GC noise (it can be negative); bench/run.mjs measures its per-session heap properly.
    const each = Math.max(0, row.bridgeKb) + row.childPssKb;
    lines.push(`| ${row.what} | ${row.newChildren} | ${f(row.bridgeKb)} | ${f(row.childRssKb)} | ${f(row.childPssKb)} | ${f((1024 * 1024) / each)} |`);
  }
  if (quick) lines.push('', '(--quick: one short round; rough numbers)');
  console.log(lines.join('\n'));
}
