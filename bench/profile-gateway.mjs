// A quick A/B of the server's CPU per call without the rest of `npm run bench`: 8 slots x 4 in
// flight, alternating windows of each target. By default one gateway process
// (bench/gateway-server.mjs, the sandboxed echo server), 2025 session vs 2026-07-28 stateless; with
// --bridge the bridge alone (bench/bridge-server.mjs) instead. --access: the session path of
// `echo` vs `echo-access` (the same server with a 10-rule access list) in one gateway process.
// --against DIR: the session path of this tree's build vs DIR's (another checkout, built with
// `npm run build`), in two gateway processes that run at once and take turns. --log DIR: the
// gateways log at info, as JSON lines appended to DIR/<target>.log (the tool-call audit written,
// not only built). With --cpu-prof the (first) gateway runs under `node --cpu-prof` and writes its
// V8 profile to the directory given (open it in Chrome DevTools, or summarise it with --summary).
//   npm run build && node bench/profile-gateway.mjs [--bridge | --access | --against DIR] [--rounds N]
//     [--only session|stateless] [--log DIR] [--cpu-prof DIR [--summary]]
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
const logDir = option('--log');
const against = option('--against');
const bridgeOnly = argv.includes('--bridge');

/** Forks one server script; resolves its first IPC message, its CPU time reader and its stop. */
async function start(script, args, execArgv = []) {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise((done) => child.once('exit', done));
  const ready = await new Promise((done) => child.once('message', done));
  return {
    ready,
    cpuUs: () =>
      new Promise((done) => {
        child.once('message', (message) => done(message.us));
        child.send({ type: 'cpu' });
      }),
    stop: async () => {
      child.send('stop');
      await exited;
    },
  };
}

const cpuProf = (first) => (first && profileDir !== undefined ? ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', profileDir] : []);
/** A gateway of build `dist` (default this tree's), logging to `<logDir>/<label>.log` when asked. */
const gateway = (label, { dist, first = true, extra = [] } = {}) =>
  start(
    './gateway-server.mjs',
    [
      FIXTURE,
      JSON.stringify(SED_SERVER),
      ...(dist === undefined ? [] : ['--dist', dist]),
      ...(logDir === undefined ? [] : ['--log', join(resolve(logDir), `${label}.log`)]),
      ...extra,
    ],
    cpuProf(first),
  );
const bearer = (server, name) => new HttpMcpTarget(server.ready.tokens[name].url, { authorization: `Bearer ${server.ready.tokens[name].token}` });

/** [name, server, target]: what is measured, and whose CPU counts. */
const targets = [];
const servers = [];
if (against !== undefined) {
  // A build from before runtime/access/ refuses echo-access's keys: neither gateway gets it, so both configs are the same.
  const here = await gateway('this-tree', { extra: ['--no-access'] });
  const there = await gateway('against', { dist: join(resolve(against), 'dist'), first: false, extra: ['--no-access'] });
  servers.push(here, there);
  targets.push(['this-tree', here, bearer(here, 'echo')], ['against', there, bearer(there, 'echo')]);
} else if (argv.includes('--access')) {
  const server = await gateway('gateway');
  servers.push(server);
  targets.push(['session', server, bearer(server, 'echo')], ['access', server, bearer(server, 'echo-access')]);
} else {
  const server = bridgeOnly ? await start('./bridge-server.mjs', [FIXTURE], cpuProf(true)) : await gateway('gateway');
  servers.push(server);
  const echo = bridgeOnly ? new HttpMcpTarget(`http://127.0.0.1:${server.ready.port}/mcp`) : bearer(server, 'echo');
  const eras = [
    ['session', server, echo],
    ['stateless', server, statelessTarget(echo)],
  ];
  targets.push(...eras.filter(([name]) => only === undefined || name === only));
}
const width = Math.max(...targets.map(([name]) => name.length)) + 1;
const sessions = new Map();
for (const [name, , target] of targets) sessions.set(name, await Promise.all(Array.from({ length: 8 }, () => target.openSession())));
const call = (session) => session.echo('hello');
for (const [name] of targets) await throughput(sessions.get(name), 4, call, { warmupMs: 3_000, durationMs: 500 }); // JIT warm-up
const results = new Map(targets.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, server] of round % 2 === 0 ? targets : [...targets].reverse()) {
    const { callsPerSecond, cpuUsPerCall } = await throughput(sessions.get(name), 4, call, { warmupMs: 500, durationMs: 2_500, cpuUs: server.cpuUs });
    results.get(name).push(cpuUsPerCall);
    console.log(`${name.padEnd(width)} round ${round + 1}: ${Math.round(callsPerSecond)} calls/s, ${cpuUsPerCall.toFixed(1)} µs/call`);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
for (const [name] of targets) console.log(`${name.padEnd(width)} median ${median(results.get(name)).toFixed(1)} µs/call`);
if (targets.length === 2) {
  // Round by round (the two ran back to back): the median difference is steadier than the difference of the medians.
  const [[a], [b]] = targets;
  const differences = results.get(b).map((us, round) => us - results.get(a)[round]);
  console.log(`${b} - ${a}: median ${median(differences).toFixed(1)} µs/call (rounds: ${differences.map((us) => us.toFixed(1)).join(', ')})`);
}
for (const own of sessions.values()) for (const session of own) await session.close();
for (const [, , target] of targets) target.close();
await Promise.all(servers.map((server) => server.stop()));
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
