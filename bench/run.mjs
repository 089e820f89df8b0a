// npm run bench: one run, one stdio echo fixture, four ways to reach it:
//   floor         the stdio server driven directly by the MCP SDK client (StdioClientTransport)
//   supergateway  supergateway 4 in stateful Streamable HTTP mode (a child per session)
//   bridge        our createStdioBridge alone behind node:http
//   gateway       our whole gateway (router + token check + bridge), as `serve` runs it
// HTTP targets run in processes of their own and are driven by the same lean client
// (bench/http-client.mjs). Prints calls/s at 8 sessions x 4 in flight, p50/p99 at 1 in flight,
// session setup time, gateway memory per idle session, the ratios, and a markdown table.
import { fork, spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { HttpMcpTarget } from './http-client.mjs';
import { latency, medianTime, sleep, throughput } from './measure.mjs';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/echo-mcp-server.mjs', import.meta.url));
const SUPERGATEWAY = fileURLToPath(new URL('../node_modules/.bin/supergateway', import.meta.url));
/** A stdio server in one `sed` process: answers initialize only. Idle sessions for the memory measurement. */
const SED_SERVER = {
  command: 'sed',
  args: ['-un', 's/^{"jsonrpc":"2.0","id":\\([0-9]*\\),"method":"initialize".*/{"jsonrpc":"2.0","id":\\1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"sed","version":"1"}}}/p'],
};
const SESSIONS = 8;
const IN_FLIGHT = 4;
const SETUP_SAMPLES = 10;
const IDLE_SESSIONS = 200;
const quick = process.argv.includes('--quick');
const timing = quick ? { warmupMs: 300, durationMs: 1_500 } : { warmupMs: 1_000, durationMs: 5_000 };
const latencyRuns = quick ? { warmup: 100, count: 500 } : { warmup: 300, count: 3_000 };

const log = (line) => process.stderr.write(`${line}\n`);
const echoCall = (session) => session.echo('hello');

async function measureFloor() {
  log('floor: stdio server via the SDK client');
  const connect = async () => {
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [FIXTURE], stderr: 'ignore' }));
    return client;
  };
  const opened = [];
  const setupMs = await medianTime(SETUP_SAMPLES, async () => opened.push(await connect()));
  await Promise.all(opened.map((client) => client.close()));
  const call = (client) => client.callTool({ name: 'echo', arguments: { text: 'hello' } });
  const clients = await Promise.all(Array.from({ length: SESSIONS }, connect));
  const callsPerSecond = await throughput(clients, IN_FLIGHT, call, timing);
  const lat = await latency(clients[0], call, latencyRuns);
  await Promise.all(clients.map((client) => client.close()));
  return { callsPerSecond, ...lat, setupMs };
}

/** Setup (initialize + initialized), throughput and latency against one Streamable HTTP endpoint. */
async function measureHttp(name, target, { setup = true } = {}) {
  log(`${name}: ${target.url.href}`);
  let setupMs;
  if (setup) {
    const opened = [];
    setupMs = await medianTime(SETUP_SAMPLES, async () => opened.push(await target.openSession()));
    for (const session of opened) await session.close();
  }
  const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => target.openSession()));
  const callsPerSecond = await throughput(sessions, IN_FLIGHT, echoCall, timing);
  const lat = await latency(sessions[0], echoCall, latencyRuns);
  for (const session of sessions) await session.close();
  return { callsPerSecond, ...lat, setupMs };
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

async function measureSupergateway() {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(
    SUPERGATEWAY,
    ['--stdio', `"${process.execPath}" "${FIXTURE}"`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const target = new HttpMcpTarget(`http://127.0.0.1:${port}/mcp`);
  try {
    await waitForHttp(target);
    return await measureHttp('supergateway (stateful Streamable HTTP)', target);
  } finally {
    target.close();
    child.kill('SIGTERM');
    await exited;
  }
}

/** Forks a bench server script and waits for its first IPC message. */
async function forkServer(script, args, execArgv = []) {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    child,
    ready,
    request(message) {
      return new Promise((resolve) => {
        child.once('message', resolve);
        child.send(message);
      });
    },
    async stop() {
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function measureBridge() {
  const server = await forkServer('./bridge-server.mjs', [FIXTURE]);
  const target = new HttpMcpTarget(`http://127.0.0.1:${server.ready.port}/mcp`);
  try {
    return await measureHttp('bridge alone', target);
  } finally {
    target.close();
    await server.stop();
  }
}

async function measureGateway() {
  const server = await forkServer('./gateway-server.mjs', [FIXTURE, JSON.stringify(SED_SERVER)], ['--expose-gc']);
  const { tokens } = server.ready;
  const targetFor = (name) => new HttpMcpTarget(tokens[name].url, { authorization: `Bearer ${tokens[name].token}` });
  const echo = targetFor('echo');
  const warm = targetFor('warm');
  const idle = targetFor('idle');
  try {
    const result = await measureHttp('whole gateway (router + token check + bridge)', echo);
    log('gateway: session setup with a warm pool of 4');
    await waitForHttp(warm);
    const pooled = [];
    // A pause between sessions lets the pool start a replacement, as it would between real clients.
    result.pooledSetupMs = await medianTime(SETUP_SAMPLES, async () => pooled.push(await warm.openSession()), { pauseMs: 400 });
    for (const session of pooled) await session.close();

    log(`gateway: memory of ${IDLE_SESSIONS} idle sessions`);
    const warmup = await Promise.all(Array.from({ length: 20 }, () => idle.openSession()));
    for (const session of warmup) await session.close();
    const before = await server.request({ type: 'memory' });
    const sessions = [];
    for (let i = 0; i < IDLE_SESSIONS; i += 20) sessions.push(...(await Promise.all(Array.from({ length: 20 }, () => idle.openSession()))));
    await sleep(200);
    const after = await server.request({ type: 'memory' });
    if (after.sessions !== IDLE_SESSIONS) throw new Error(`expected ${IDLE_SESSIONS} idle sessions, the gateway has ${after.sessions}`);
    result.heapPerSessionKb = (after.heapUsed - before.heapUsed) / IDLE_SESSIONS / 1024;
    result.rssPerSessionKb = (after.rss - before.rss) / IDLE_SESSIONS / 1024;
    for (const session of sessions) await session.close();
    return result;
  } finally {
    for (const target of [echo, warm, idle]) target.close();
    await server.stop();
  }
}

const fmt = (n, digits = 0) => (n === undefined ? 'n/a' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;

const started = Date.now();
const floor = await measureFloor();
const supergateway = await measureSupergateway();
const bridge = await measureBridge();
const gateway = await measureGateway();

const rows = [
  ['stdio direct, SDK client (floor)', floor],
  ['supergateway 4, stateful Streamable HTTP', supergateway],
  ['mcp-gateway bridge alone', bridge],
  ['mcp-gateway whole gateway (router + token + bridge)', gateway],
];
const table = [
  '| target | calls/s, 8 sessions x 4 in flight | p50 ms, 1 in flight | p99 ms, 1 in flight | session setup ms (median) |',
  '|---|---:|---:|---:|---:|',
  ...rows.map(([name, r]) => `| ${name} | ${fmt(r.callsPerSecond)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} | ${fmt(r.setupMs, 1)} |`),
  `| mcp-gateway whole gateway, warm pool of 4 | | | | ${fmt(gateway.pooledSetupMs, 1)} |`,
];
const checks = [
  ['gateway throughput vs supergateway', ratio(gateway.callsPerSecond, supergateway.callsPerSecond), '>= 5x', gateway.callsPerSecond >= 5 * supergateway.callsPerSecond],
  ['gateway throughput vs floor', `${((gateway.callsPerSecond / floor.callsPerSecond) * 100).toFixed(0)}%`, '>= 30%', gateway.callsPerSecond >= 0.3 * floor.callsPerSecond],
  ['gateway p50 vs supergateway p50', ratio(gateway.p50, supergateway.p50), '<= 0.25x', gateway.p50 <= supergateway.p50 / 4],
  ['gateway setup (no pool) vs floor spawn + initialize', ratio(gateway.setupMs, floor.setupMs), '<= 1.1x', gateway.setupMs <= 1.1 * floor.setupMs],
  ['gateway setup with warm pool', `${fmt(gateway.pooledSetupMs, 1)} ms`, '< 10 ms', gateway.pooledSetupMs < 10],
  ['gateway memory per idle session (heap / RSS, children excluded)', `${fmt(gateway.heapPerSessionKb, 1)} KB / ${fmt(gateway.rssPerSessionKb, 1)} KB`, '<= 100 KB', gateway.rssPerSessionKb <= 100 && gateway.heapPerSessionKb <= 100],
];
const ratios = [
  '| ratio | measured | target | met |',
  '|---|---:|---:|:---:|',
  ...checks.map(([what, measured, target, met]) => `| ${what} | ${measured} | ${target} | ${met ? 'yes' : 'NO'} |`),
  `| bridge alone throughput vs supergateway | ${ratio(bridge.callsPerSecond, supergateway.callsPerSecond)} | | |`,
  `| bridge alone p50 vs supergateway p50 | ${ratio(bridge.p50, supergateway.p50)} | | |`,
];
const cpu = cpus();
console.log(
  [
    `mcp-gateway bench: node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${quick ? 'quick' : 'full'} run in ${Math.round((Date.now() - started) / 1000)} s`,
    '',
    ...table,
    '',
    ...ratios,
  ].join('\n'),
);
process.exitCode = checks.every(([, , , met]) => met) ? 0 : 0; // informational: targets are reported, not enforced
