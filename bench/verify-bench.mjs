// npm run bench:verify: requests per second of the ForwardAuth endpoint (/verify, the whole
// embedded gateway with a valid token) against a bare node:http hello-world, in one run on one
// machine. Each server runs in a child process of its own; autocannon drives both the same way
// (127.0.0.1, 50 connections, 2 s warm-up, then 8 s measured). Prints req/s, p50/p99 latency and
// the ratio (issue 3 target: >= 70%), and writes docs/verify-benchmark.md.
//
//   node bench/verify-bench.mjs [--duration 8] [--warmup 2] [--connections 50] [--cpu-prof] [--no-write]
//
// --cpu-prof runs the /verify server under `node --cpu-prof` and prints where its time goes.
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const SERVER = fileURLToPath(new URL('./verify-bench-server.mjs', import.meta.url));
const REPORT = fileURLToPath(new URL('../docs/verify-benchmark.md', import.meta.url));
const TARGET_RATIO = 0.7;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const settings = { duration: option('duration', 8), warmup: option('warmup', 2), connections: option('connections', 50) };
const cpuProf = args.includes('--cpu-prof');
const write = !args.includes('--no-write');

/** Starts one target in its own process; resolves with its URL, headers and a stop function. */
async function startTarget(kind, execArgv = []) {
  const child = fork(SERVER, [kind], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const target = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the ${kind} server exited with ${code} before it was ready`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { ...target, stop };
}

function run(url, headers, duration) {
  return autocannon({ url, headers, connections: settings.connections, duration, pipelining: 1 });
}

async function measure(kind, label, execArgv) {
  const target = await startTarget(kind, execArgv);
  try {
    const probe = await fetch(target.url, { headers: target.headers });
    await probe.arrayBuffer();
    if (probe.status !== 200) throw new Error(`${label} answered ${probe.status} to the probe request; nothing to measure`);
    await run(target.url, target.headers, settings.warmup);
    const result = await run(target.url, target.headers, settings.duration);
    if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
      throw new Error(`${label}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`);
    }
    return { label, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, total: result.requests.total };
  } finally {
    await target.stop();
  }
}

/** Self time per function in a .cpuprofile, largest first. */
async function summariseProfile(dir) {
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [];
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8'));
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const intervals = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const where = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
    self.set(where, (self.get(where) ?? 0) + (intervals[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([where, us]) => ({ where, share: us / total }));
}

const hello = await measure('hello', 'node:http hello-world');
const profileDir = cpuProf ? await mkdtemp(join(tmpdir(), 'verify-prof-')) : undefined;
const verify = await measure('verify', 'gateway /verify', profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
const ratio = verify.rps / hello.rps;

const machine = `${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}`;
const row = (r) => `| ${r.label} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50} ms | ${r.p99} ms | ${r.total.toLocaleString('en-US')} |`;
const table = ['| target | req/s (mean) | p50 | p99 | requests |', '|---|---:|---:|---:|---:|', row(hello), row(verify)].join('\n');
const verdict = `/verify reaches ${(ratio * 100).toFixed(1)}% of the hello-world (target: >= ${TARGET_RATIO * 100}%): ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}.`;

console.log(`\n${machine}\n${settings.connections} connections, ${settings.warmup} s warm-up, ${settings.duration} s measured\n\n${table}\n\n${verdict}`);

if (profileDir) {
  console.log('\nwhere the /verify server spends its time (self time, top 25):');
  for (const { where, share } of await summariseProfile(profileDir)) console.log(`  ${(share * 100).toFixed(1).padStart(5)}%  ${where}`);
  console.log(`(profile in ${profileDir})`);
}

if (write) {
  await mkdir(fileURLToPath(new URL('../docs/', import.meta.url)), { recursive: true });
  const doc = `# /verify benchmark

What issue 3 asks: the ForwardAuth endpoint \`/verify\` (what Traefik calls before every MCP request)
compared with a bare \`node:http\` hello-world on the same machine in the same run; target: at least
${TARGET_RATIO * 100}% of its requests per second.

- Command: \`npm run bench:verify\` (builds, then \`node bench/verify-bench.mjs\`)
- Date: ${new Date().toISOString()}
- Machine: ${machine}
- Load: autocannon ${settings.connections} connections on 127.0.0.1, no pipelining, ${settings.warmup} s warm-up, then ${settings.duration} s measured per target
- Each server in a child process of its own (the load generator does not share its event loop).
- hello-world: \`res.end('hello world')\`.
- /verify: \`startGateway\` from \`dist/\` (built-in router, auth app, local login, in-memory embedded
  store, ephemeral ES256 key), \`X-Forwarded-Uri: /echo/mcp\` and a valid token for that resource
  with a grant family, so every request checks the signature, \`iss\`, \`aud\`, \`exp\`/\`nbf\`, the
  allowlist and both revocation markers, and answers 200 with the \`X-User-*\` headers.

${table}

${verdict}

Latency is autocannon's, per request, with ${settings.connections} requests in flight. The figures move with whatever
else the machine runs; compare the two rows of one run, not runs with each other. To see where the
/verify server spends its time: \`node bench/verify-bench.mjs --cpu-prof --no-write\` (after \`npm run build\`).
`;
  await writeFile(REPORT, doc);
  console.log(`\nwritten to ${REPORT}`);
}
