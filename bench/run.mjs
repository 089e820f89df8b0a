// npm run bench: one run, one stdio echo fixture, four ways to reach it:
//   floor         the stdio server driven directly by the MCP SDK client (StdioClientTransport)
//   supergateway  supergateway 4 in stateful Streamable HTTP mode (a child per session)
//   bridge        our createStdioBridge alone behind node:http (2025 sessions, and 2026-07-28 stateless)
//   gateway       our whole gateway (router + token check + bridge), as `serve` runs it: the
//                 child in bubblewrap; the same gateway also serves it with `sandbox: off`, and
//                 serves 2026-07-28 clients (stateless: no initialize, no session) on it, and serves
//                 the same server with a 10-rule access list (issue 14: a policy check's cost)
// HTTP targets run in processes of their own and are driven by the same lean client
// (bench/http-client.mjs). Prints calls/s at 8 sessions x 4 in flight, the server process's
// CPU µs per call in those rounds (every target, with ratios against the peers of the same run),
// p50/p99 at 1 in flight, session setup time (sandbox on and off), gateway memory per idle
// session, the ratios, and a markdown table; then the store (bench/store-bench.mjs):
// registrations and refreshes per second on SQLite and Redis.
// Targets are measured in interleaved rounds, so other load on the machine hits all of them.
//   node bench/run.mjs [--quick] [--store]      (npm run bench builds first; --store: the store part only)
import { execFileSync, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { HttpMcpTarget, statelessTarget } from './http-client.mjs';
import { latency, sleep, throughput } from './measure.mjs';
import { runStoreBench } from './store-bench.mjs';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/echo-mcp-server.mjs', import.meta.url));
const SUPERGATEWAY = fileURLToPath(new URL('../node_modules/.bin/supergateway', import.meta.url));
/** A stdio server in one `sed` process: answers initialize only. Idle sessions for the memory measurement. */
const SED_SERVER = {
  command: 'sed',
  args: [
    '-un',
    's/^{"jsonrpc":"2.0","id":\\([0-9]*\\),"method":"initialize".*/{"jsonrpc":"2.0","id":\\1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"sed","version":"1"}}}/p',
  ],
};
const SESSIONS = 8;
const IN_FLIGHT = 4;
const SETUP_ROUNDS = 12;
/** Issue 13: the whole gateway's own CPU per call, on the session path and on the stateless one. */
const GATEWAY_CPU_BUDGET_US = 100;
/** Issue 14: what a policy check (the 10-rule access list of bench/gateway-server.mjs) may add to the gateway's CPU per call. */
const POLICY_CPU_BUDGET_US = 5;
/**
 * A target's uncounted warm-up lasts until it has answered this many calls (within the bounds of
 * `warmupBounds`): the stateless path first starts one child per call in flight, and code only it runs
 * was still cold after a warm-up of a fixed 2 s (its first round cost 2-3x the later ones in trials).
 */
const WARMUP_CALLS = 5_000;
const IDLE_SESSIONS = 200;
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
// The JIT is warm before the first round (see WARMUP_CALLS); a round's own warm-up only lets the
// loops of the target just switched to reach their pace.
const timing = quick ? { warmupMs: 300, durationMs: 1_000 } : { warmupMs: 500, durationMs: 2_500 };
const warmupBounds = quick ? { minMs: 600, maxMs: 1_200, stepMs: 300 } : { minMs: 2_000, maxMs: 5_000, stepMs: 500 };
const latencyRuns = quick ? { warmup: 100, count: 500 } : { warmup: 200, count: 1_000 };
if (process.argv.includes('--store')) {
  console.log((await runStoreBench({ quick })).table.join('\n'));
  process.exit(0);
}

// The children of every target start with the same environment: the SDK's stdio client (the
// floor) passes a minimal one, our bridge passes these two when set (a proxy's CA bundle, which
// costs each Node child ~20-30 ms to load), supergateway passes everything.
delete process.env['NODE_EXTRA_CA_CERTS'];
delete process.env['SSL_CERT_FILE'];

const log = (line) => process.stderr.write(`${line}\n`);
const loadavgText = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
const echoCall = (session) => session.echo('hello');
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const fmt = (n, digits = 0) => (n === undefined ? 'n/a' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;

/**
 * The floor: the SDK client on the stdio server directly. Quacks like an HTTP target. It has no
 * server process between client and MCP server, so its CPU figure is the MCP servers' own (the
 * echo children of its open sessions, from /proc): what every other target's children spend
 * too, on top of the figure in their row.
 */
const floorPids = new Set();
const floorTarget = {
  name: 'floor',
  async openSession() {
    const client = new Client({ name: 'bench', version: '1' });
    const transport = new StdioClientTransport({ command: process.execPath, args: [FIXTURE], stderr: 'ignore' });
    await client.connect(transport);
    const { pid } = transport;
    floorPids.add(pid);
    return {
      echo: (text) => client.callTool({ name: 'echo', arguments: { text } }),
      close: async () => {
        floorPids.delete(pid);
        await client.close();
      },
    };
  },
  close() {},
};
/** CPU µs so far of the floor's MCP servers; undefined when one cannot be read. */
async function floorCpuUs() {
  let sum = 0;
  for (const pid of floorPids) {
    const us = procCpuUs(pid);
    if (us === undefined) return undefined;
    sum += us;
  }
  return sum;
}

/**
 * Calls/s at SESSIONS x IN_FLIGHT and p50/p99 at one in flight, for every target, in rounds that
 * visit the targets in turn: load from anything else on the machine then hits all of them alike.
 * A target entry is [name, target, cpuUs?]: cpuUs reads its server process's CPU time, taken
 * around each throughput round for the CPU per call. Each target's result is the median of its
 * rounds (latency: the median round by p50), with every round's CPU figure (`cpuRounds`).
 */
async function measureCalls(targets) {
  const sessions = new Map();
  for (const [name, target] of targets) sessions.set(name, await Promise.all(Array.from({ length: SESSIONS }, () => target.openSession())));
  const rounds = new Map(targets.map(([name]) => [name, { rates: [], cpu: [], latencies: [] }]));
  // Not counted: the JIT of the clients, servers and every child gets warm first.
  for (const [name] of targets) {
    log(`calls: warm-up, ${name}`);
    const { minMs, maxMs, stepMs } = warmupBounds;
    let calls = 0;
    for (let spentMs = 0; spentMs < maxMs && (spentMs < minMs || calls < WARMUP_CALLS); spentMs += stepMs) {
      calls += (await naming(name, throughput(sessions.get(name), IN_FLIGHT, echoCall, { warmupMs: 0, durationMs: stepMs }))).calls;
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    // The order turns each round and runs backwards every other round: no target always follows
    // the same one (the sandbox on/off pair, adjacent, would otherwise always run in one order).
    const shift = round % targets.length;
    const order = [...targets.slice(shift), ...targets.slice(0, shift)];
    if (round % 2 === 1) order.reverse();
    for (const [name, , cpuUs] of order) {
      const own = sessions.get(name);
      const { callsPerSecond, cpuUsPerCall } = await naming(name, throughput(own, IN_FLIGHT, echoCall, { ...timing, cpuUs }));
      // Every round's figures, not only the medians the table shows: the spread is the noise.
      log(`calls: round ${round + 1}/${ROUNDS}, ${name}: ${fmt(callsPerSecond)} calls/s, ${fmt(cpuUsPerCall, 1)} server CPU µs/call`);
      rounds.get(name).rates.push(callsPerSecond);
      if (cpuUsPerCall !== undefined) rounds.get(name).cpu.push(cpuUsPerCall);
      rounds.get(name).latencies.push(await naming(name, latency(own[0], echoCall, latencyRuns)));
    }
  }
  for (const own of sessions.values()) for (const session of own) await session.close();
  return Object.fromEntries(
    [...rounds].map(([name, { rates, cpu, latencies }]) => {
      const byP50 = [...latencies].sort((a, b) => a.p50 - b.p50);
      return [name, { callsPerSecond: median(rates), cpuUsPerCall: cpu.length ? median(cpu) : undefined, cpuRounds: cpu, ...byP50[byP50.length >> 1] }];
    }),
  );
}

/**
 * The 10-rule access list is in force for the bench user before it is measured: `echo` answers
 * (so X-User-Login reached the gate and the last rule admitted it), `add` (no rule gives it to
 * bench) and `env` (tools.deny) are refused with -32602. The measured loops then check every
 * answer is the echoed text, so a denial there stops the run too.
 */
async function checkAccessList(target) {
  const session = await target.openSession();
  try {
    const echoed = await session.callTool('echo', { text: 'policy' });
    if (echoed?.result?.content?.[0]?.text !== 'policy') throw new Error(`access list: echo was not answered: ${JSON.stringify(echoed).slice(0, 200)}`);
    for (const [tool, args] of [
      ['add', { a: 1, b: 2 }],
      ['env', { name: 'HOME' }],
    ]) {
      const refused = await session.callTool(tool, args);
      if (refused?.error?.code !== -32602 || refused.error.data?.reason !== 'access_denied')
        throw new Error(`access list: ${tool} was not refused: ${JSON.stringify(refused).slice(0, 200)}`);
    }
  } finally {
    await session.close();
  }
}

/** Median of a - b, round by round (the two measured back to back), or undefined without both. */
function pairedDifference(a, b) {
  if (a.length === 0 || a.length !== b.length) return undefined;
  return median(a.map((value, round) => value - b[round]));
}

/** `work`, its failure prefixed with the target it was measuring. */
function naming(name, work) {
  return work.catch((err) => {
    throw new Error(`calls: ${name}: ${err.message}`, { cause: err });
  });
}

async function waitForHttp(target) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const session = await target.openSession();
      await session.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (user + system, µs) of one process, not its children, from /proc/PID/stat (Linux
 * only; clock ticks, 10 ms at CLK_TCK 100: over a 3 s round of thousands of calls, ~1 µs per
 * call). For processes we do not control; our own servers answer {type: 'cpu'} with
 * process.cpuUsage(), in µs.
 */
function procCpuUs(pid) {
  try {
    // The fields after the command name, which is in parentheses and may contain spaces: state is
    // field 3, utime field 14, stime field 15 (proc(5)).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
  } catch {
    return undefined;
  }
}

async function startSupergateway() {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(
    SUPERGATEWAY,
    ['--stdio', `"${process.execPath}" "${FIXTURE}"`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stopping = false;
  child.once('exit', (code, signal) => stopping || log(`supergateway exited during the run (code ${code}, signal ${signal})`));
  const target = new HttpMcpTarget(`http://127.0.0.1:${port}/mcp`);
  await waitForHttp(target);
  return {
    target,
    // The bin is a `#!/usr/bin/env node` script and env execs node in place, so child.pid is
    // supergateway's node process; the echo servers it starts are processes of their own.
    cpuUs: async () => procCpuUs(child.pid),
    async stop() {
      stopping = true;
      target.close();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Forks a bench server script and waits for its first IPC message. */
async function forkServer(script, args, execArgv = []) {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  let stopping = false;
  // A server gone mid-run shows as "socket hang up" in the client: say which one, and how.
  child.once('exit', (code, signal) => stopping || log(`${script} exited during the run (code ${code}, signal ${signal})`));
  return {
    ready,
    request(message) {
      return new Promise((resolve) => {
        child.once('message', resolve);
        child.send(message);
      });
    },
    /** Its CPU time so far in µs (process.cpuUsage() over IPC: µs resolution, its children not included). */
    async cpuUs() {
      return (await this.request({ type: 'cpu' })).us;
    },
    async stop() {
      stopping = true;
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Session setup (spawn + initialize + initialized) of every target, interleaved round by round
 * so that machine noise hits all of them alike. Sessions are closed, and the warm pool given
 * time to start a replacement, between rounds.
 */
async function measureSetup(targets) {
  log('setup: interleaved rounds');
  const samples = new Map(targets.map(([name]) => [name, []]));
  for (let round = 0; round < SETUP_ROUNDS; round++) {
    const opened = [];
    // The order turns each round, so no target always follows the same ones; the pooled one
    // stays last, so the replacement child its pool starts runs during the pause.
    const turning = targets.slice(0, -1);
    const shift = round % turning.length;
    const order = [...turning.slice(shift), ...turning.slice(0, shift), targets.at(-1)];
    for (const [name, target] of order) {
      const started = performance.now();
      opened.push(await target.openSession());
      samples.get(name).push(performance.now() - started);
    }
    for (const session of opened) await session.close();
    await sleep(500);
  }
  return Object.fromEntries([...samples].map(([name, values]) => [name, median(values.slice(3))])); // three rounds to warm up
}

async function measureIdleMemory(server, idle) {
  log(`gateway: memory of ${IDLE_SESSIONS} idle sessions`);
  const warmup = await Promise.all(Array.from({ length: 20 }, () => idle.openSession()));
  for (const session of warmup) await session.close();
  const before = await server.request({ type: 'memory' });
  const sessions = [];
  for (let i = 0; i < IDLE_SESSIONS; i += 20) sessions.push(...(await Promise.all(Array.from({ length: 20 }, () => idle.openSession()))));
  await sleep(200);
  const after = await server.request({ type: 'memory' });
  if (after.sessions !== IDLE_SESSIONS) throw new Error(`expected ${IDLE_SESSIONS} idle sessions, the gateway has ${after.sessions}`);
  for (const session of sessions) await session.close();
  return { heapPerSessionKb: (after.heapUsed - before.heapUsed) / IDLE_SESSIONS / 1024, rssPerSessionKb: (after.rss - before.rss) / IDLE_SESSIONS / 1024 };
}

const started = Date.now();
const loadBefore = loadavgText();
log(`load average (1 / 5 / 15 min): ${loadBefore}`);
const supergatewayServer = await startSupergateway();
const bridgeServer = await forkServer('./bridge-server.mjs', [FIXTURE]);
const httpEchoServer = await forkServer('./http-echo-server.mjs', []);
const httpEchoTarget = new HttpMcpTarget(`http://127.0.0.1:${httpEchoServer.ready.port}/mcp`);
const gatewayServer = await forkServer('./gateway-server.mjs', [FIXTURE, JSON.stringify(SED_SERVER)], ['--expose-gc']);
const { tokens } = gatewayServer.ready;
const gatewayTarget = (name) => new HttpMcpTarget(tokens[name].url, { authorization: `Bearer ${tokens[name].token}` });
const bridgeTarget = new HttpMcpTarget(`http://127.0.0.1:${bridgeServer.ready.port}/mcp`);
const [echo, echoNoSandbox, echoAccess, warm, idle] = ['echo', 'echo-nosandbox', 'echo-access', 'warm', 'idle'].map(gatewayTarget);
const stateless = statelessTarget(echo);
const bridgeStatelessTarget = statelessTarget(bridgeTarget);
let floor, supergateway, bridge, bridgeStateless, gateway, gatewayAccess, gatewayNoSandbox, gatewayStateless, httpEcho, loadMid;
try {
  await waitForHttp(warm); // the pool's children have started
  await checkAccessList(echoAccess);
  await sleep(500);
  const setup = await measureSetup([
    ['floor', floorTarget],
    ['supergateway', supergatewayServer.target],
    ['bridge', bridgeTarget],
    ['gateway', echo],
    ['gatewayNoSandbox', echoNoSandbox],
    ['pooled', warm],
  ]);
  loadMid = loadavgText();
  log(`load average (1 / 5 / 15 min): ${loadMid}`);
  const calls = await measureCalls([
    ['floor', floorTarget, floorCpuUs],
    ['supergateway', supergatewayServer.target, supergatewayServer.cpuUs],
    ['bridge', bridgeTarget, () => bridgeServer.cpuUs()],
    ['bridgeStateless', bridgeStatelessTarget, () => bridgeServer.cpuUs()],
    // Next to `gateway`: the rounds' order turns but keeps neighbours, so the two run back to back.
    ['gateway', echo, () => gatewayServer.cpuUs()],
    ['gatewayAccess', echoAccess, () => gatewayServer.cpuUs()],
    ['gatewayNoSandbox', echoNoSandbox, () => gatewayServer.cpuUs()],
    ['gatewayStateless', stateless, () => gatewayServer.cpuUs()],
    ['httpEcho', httpEchoTarget, () => httpEchoServer.cpuUs()],
  ]);
  httpEcho = calls.httpEcho;
  floor = { ...calls.floor, setupMs: setup.floor };
  supergateway = { ...calls.supergateway, setupMs: setup.supergateway };
  bridge = { ...calls.bridge, setupMs: setup.bridge };
  bridgeStateless = calls.bridgeStateless;
  gateway = { ...calls.gateway, setupMs: setup.gateway, pooledSetupMs: setup.pooled };
  gatewayAccess = calls.gatewayAccess;
  gatewayNoSandbox = { ...calls.gatewayNoSandbox, setupMs: setup.gatewayNoSandbox };
  gatewayStateless = calls.gatewayStateless;
  Object.assign(gateway, await measureIdleMemory(gatewayServer, idle));
} finally {
  for (const target of [echo, echoNoSandbox, echoAccess, warm, idle, bridgeTarget, httpEchoTarget]) target.close();
  await Promise.all([supergatewayServer.stop(), bridgeServer.stop(), gatewayServer.stop(), httpEchoServer.stop()]);
}

// The ratio of two CPU figures, or n/a where one could not be read (supergateway's or the floor's on a host without /proc).
const cpuRatio = (a, b) => (a === undefined || b === undefined ? 'n/a' : ratio(a, b));
const rows = [
  // The floor has no server process in between: its CPU column is its MCP servers' (see floorTarget).
  ['stdio direct, SDK client (floor); CPU: the stdio MCP servers themselves', floor],
  ['supergateway 4, stateful Streamable HTTP', supergateway],
  ['mcp-gateway bridge alone', bridge],
  ['mcp-gateway bridge alone, 2026-07-28 stateless (no session)', bridgeStateless],
  ['mcp-gateway whole gateway (router + token + bridge), child in bubblewrap, 2025-06-18 session', gateway],
  ['mcp-gateway whole gateway with a 10-rule access list (4 tools.deny, 6 access rules), same process, bubblewrap, session', gatewayAccess],
  ['mcp-gateway whole gateway, same process, `sandbox: off`', gatewayNoSandbox],
  ['mcp-gateway whole gateway, child in bubblewrap, 2026-07-28 stateless (no session)', gatewayStateless],
  ['reference: node:http answering in-process (no MCP server, no child)', httpEcho],
];
const table = [
  '| target | calls/s, 8 sessions x 4 in flight | server CPU µs/call | CPU vs node:http reference | CPU vs supergateway | p50 ms, 1 in flight | p99 ms, 1 in flight | session setup ms (median) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    ([name, r]) =>
      `| ${name} | ${fmt(r.callsPerSecond)} | ${fmt(r.cpuUsPerCall, 1)} | ${cpuRatio(r.cpuUsPerCall, httpEcho.cpuUsPerCall)} | ${cpuRatio(r.cpuUsPerCall, supergateway.cpuUsPerCall)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} | ${fmt(r.setupMs, 1)} |`,
  ),
];
const withinBudget = (us) => us !== undefined && us <= GATEWAY_CPU_BUDGET_US;
const policyUs = pairedDifference(gatewayAccess.cpuRounds, gateway.cpuRounds);
const signedUs = (us) => (us === undefined ? 'n/a' : `${us < 0 ? '-' : '+'}${fmt(Math.abs(us), 1)} µs`);
const checks = [
  [
    'gateway throughput vs supergateway',
    ratio(gateway.callsPerSecond, supergateway.callsPerSecond),
    '>= 5x',
    gateway.callsPerSecond >= 5 * supergateway.callsPerSecond,
  ],
  [
    'gateway throughput vs floor',
    `${((gateway.callsPerSecond / floor.callsPerSecond) * 100).toFixed(0)}%`,
    '>= 30%',
    gateway.callsPerSecond >= 0.3 * floor.callsPerSecond,
  ],
  [
    'gateway server CPU per call, 2025-06-18 session',
    `${fmt(gateway.cpuUsPerCall, 1)} µs`,
    `<= ${GATEWAY_CPU_BUDGET_US} µs`,
    withinBudget(gateway.cpuUsPerCall),
  ],
  [
    'gateway server CPU per call, 2026-07-28 stateless',
    `${fmt(gatewayStateless.cpuUsPerCall, 1)} µs`,
    `<= ${GATEWAY_CPU_BUDGET_US} µs`,
    withinBudget(gatewayStateless.cpuUsPerCall),
  ],
  [
    // Round by round (the two ran back to back), the median of the differences: less noisy than the difference of the medians.
    'policy check: gateway with a 10-rule access list, server CPU per call',
    `${signedUs(policyUs)} vs gateway (${fmt(gatewayAccess.cpuUsPerCall, 1)} vs ${fmt(gateway.cpuUsPerCall, 1)} µs)`,
    `<= ${POLICY_CPU_BUDGET_US} µs`,
    policyUs !== undefined && policyUs <= POLICY_CPU_BUDGET_US,
  ],
  ['gateway p50 vs supergateway p50', ratio(gateway.p50, supergateway.p50), '<= 0.25x', gateway.p50 <= supergateway.p50 / 4],
  ['gateway setup (no pool, bubblewrap) vs floor spawn + initialize', ratio(gateway.setupMs, floor.setupMs), '<= 1.1x', gateway.setupMs <= 1.1 * floor.setupMs],
  ['gateway setup with warm pool of 4 (in bubblewrap)', `${fmt(gateway.pooledSetupMs, 1)} ms`, '< 10 ms', gateway.pooledSetupMs < 10],
  [
    'gateway memory per idle session (heap / RSS, children excluded)',
    `${fmt(gateway.heapPerSessionKb, 1)} KB / ${fmt(gateway.rssPerSessionKb, 1)} KB`,
    '<= 100 KB',
    gateway.rssPerSessionKb <= 100 && gateway.heapPerSessionKb <= 100,
  ],
];
const ratios = [
  '| ratio | measured | target | met |',
  '|---|---:|---:|:---:|',
  ...checks.map(([what, measured, target, met]) => `| ${what} | ${measured} | ${target} | ${met ? 'yes' : 'NO'} |`),
  `| gateway server CPU per call, 2026-07-28 stateless vs 2025-06-18 session | ${cpuRatio(gatewayStateless.cpuUsPerCall, gateway.cpuUsPerCall)} | | |`,
  `| gateway throughput, 2026-07-28 stateless vs 2025-06-18 session | ${ratio(gatewayStateless.callsPerSecond, gateway.callsPerSecond)} | | |`,
  `| bridge alone server CPU per call, 2026-07-28 stateless vs 2025-06-18 session | ${cpuRatio(bridgeStateless.cpuUsPerCall, bridge.cpuUsPerCall)} | | |`,
  // What relaying adds to the work of the MCP server itself (the floor's children, same fixture).
  `| gateway server CPU per call vs the stdio MCP server's own (floor) | ${cpuRatio(gateway.cpuUsPerCall, floor.cpuUsPerCall)} | | |`,
  `| sandbox cost per session: gateway setup, bubblewrap minus sandbox off | ${fmt(gateway.setupMs - gatewayNoSandbox.setupMs, 1)} ms (${ratio(gateway.setupMs, gatewayNoSandbox.setupMs)}) | | |`,
  `| gateway setup with sandbox off vs floor spawn + initialize | ${ratio(gatewayNoSandbox.setupMs, floor.setupMs)} | | |`,
  `| gateway throughput, bubblewrap vs sandbox off | ${ratio(gateway.callsPerSecond, gatewayNoSandbox.callsPerSecond)} | | |`,
  // The child's CPU is not the gateway's: only a change in calls/s (fewer messages per wake-up) should move this one.
  `| gateway server CPU per call, bubblewrap vs sandbox off | ${cpuRatio(gateway.cpuUsPerCall, gatewayNoSandbox.cpuUsPerCall)} | | |`,
  `| bridge alone throughput vs supergateway | ${ratio(bridge.callsPerSecond, supergateway.callsPerSecond)} | | |`,
  `| bridge alone p50 vs supergateway p50 | ${ratio(bridge.p50, supergateway.p50)} | | |`,
  // No HTTP-to-stdio bridge can answer faster than one HTTP round trip plus one stdio round trip.
  `| one HTTP + one stdio round trip (reference p50 + floor p50) vs supergateway p50 | ${fmt(httpEcho.p50 + floor.p50, 3)} ms = ${ratio(httpEcho.p50 + floor.p50, supergateway.p50)} | | |`,
];
const cpu = cpus();
console.log(
  [
    `mcp-gateway bench: node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${quick ? 'quick' : 'full'} run in ${Math.round((Date.now() - started) / 1000)} s`,
    // Everything here shares the machine's cores: other load skews every number (see docs/performance.md).
    `load average (1 / 5 / 15 min) before: ${loadBefore}, after setup: ${loadMid}, after: ${loadavgText()}`,
    '',
    ...table,
    '',
    ...ratios,
  ].join('\n'),
);
// The store after the MCP targets have stopped, so neither measurement loads the other.
const store = await runStoreBench({ quick });
console.log(['', ...store.table].join('\n'));
// The targets are reported, not enforced: machine noise must not fail a script people run to look.
