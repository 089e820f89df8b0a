// A quick A/B of the server's CPU per call, 2025 session vs 2026-07-28 stateless, without the
// rest of `npm run bench`: one gateway process (bench/gateway-server.mjs, the sandboxed echo
// server) or, with --bridge, the bridge alone (bench/bridge-server.mjs); 8 slots x 4 in flight,
// alternating windows of each era. With --cpu-prof the gateway
// runs under `node --cpu-prof` and writes its V8 profile to the directory given (open it in
// Chrome DevTools, or summarise it with --summary).
//   npm run build && node bench/profile-gateway.mjs [--bridge] [--rounds N] [--only session|stateless] [--cpu-prof DIR [--summary]]
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpMcpTarget, statelessTarget } from './http-client.mjs';
import { throughput } from './measure.mjs';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/echo-mcp-server.mjs', import.meta.url));
const SED_SERVER = { command: 'sed', args: ['-un', 'p'] };
const argv = process.argv.slice(2);
const option = (name) => {
  const at = argv.indexOf(name);
  return at === -1 ? undefined : argv[at + 1];
};
const rounds = Number(option('--rounds') ?? 3);
const only = option('--only');
const profileDir = option('--cpu-prof');
const bridgeOnly = argv.includes('--bridge');
const script = bridgeOnly ? './bridge-server.mjs' : './gateway-server.mjs';
const server = fork(fileURLToPath(new URL(script, import.meta.url)), bridgeOnly ? [FIXTURE] : [FIXTURE, JSON.stringify(SED_SERVER)], {
  execArgv: profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', profileDir],
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
const exited = new Promise((resolve) => server.once('exit', resolve));
const ready = await new Promise((resolve) => server.once('message', resolve));
const cpuUs = () =>
  new Promise((resolve) => {
    server.once('message', (message) => resolve(message.us));
    server.send({ type: 'cpu' });
  });
const echo = bridgeOnly
  ? new HttpMcpTarget(`http://127.0.0.1:${ready.port}/mcp`)
  : new HttpMcpTarget(ready.tokens.echo.url, { authorization: `Bearer ${ready.tokens.echo.token}` });
const targets = { session: echo, stateless: statelessTarget(echo) };
const names = only === undefined ? ['session', 'stateless'] : [only];
const sessions = {};
for (const name of names) sessions[name] = await Promise.all(Array.from({ length: 8 }, () => targets[name].openSession()));
const call = (session) => session.echo('hello');
for (const name of names) await throughput(sessions[name], 4, call, { warmupMs: 3_000, durationMs: 500 }); // JIT warm-up
const results = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const { callsPerSecond, cpuUsPerCall } = await throughput(sessions[name], 4, call, { warmupMs: 500, durationMs: 2_500, cpuUs });
    results[name].push(cpuUsPerCall);
    console.log(`${name.padEnd(9)} round ${round + 1}: ${Math.round(callsPerSecond)} calls/s, ${cpuUsPerCall.toFixed(1)} µs/call`);
  }
}
for (const name of names) {
  const sorted = [...results[name]].sort((a, b) => a - b);
  console.log(`${name.padEnd(9)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} µs/call`);
}
for (const name of names) for (const session of sessions[name]) await session.close();
echo.close();
server.send('stop');
await exited;
if (profileDir !== undefined && argv.includes('--summary')) summarise(profileDir);

/** Self time per function (top 40) of the newest profile in `dir`. */
function summarise(dir) {
  const file = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .at(-1);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const self = new Map();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  let total = 0;
  for (const [id, count] of counts) {
    const { callFrame } = byId.get(id);
    const key = `${callFrame.functionName || '(anonymous)'} ${callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + count);
    total += count;
  }
  console.log(`\n${file}: ${total} samples; self time, top 40`);
  for (const [key, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((count / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
