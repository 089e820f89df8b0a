// The whole gateway (router + token check + bridge) in a process of its own, as `serve` runs it:
// startGateway with the local login provider and ephemeral keys. It reports its port and one
// access token per server over IPC, answers {type: 'memory'} with its memory after a GC
// (run with --expose-gc) and {type: 'cpu'} with its CPU time so far (its own, not its children's).
// `echo` runs sandboxed (bubblewrap on Linux), as `serve` runs every stdio server by default;
// `echo-nosandbox` is the same server with `sandbox: off`, so the sandbox's cost is a number;
// `echo-access` is `echo` with a 10-rule access list (bench/access-list.mjs), so a policy check's cost is one.
//   node bench/gateway-server.mjs FIXTURE SED_SERVER_JSON [--dist DIR] [--log FILE] [--no-access]
// --dist: the build to run (default ../dist; bench/profile-gateway.mjs --against runs another
// tree's); --log: log at info as JSON lines, appended synchronously to FILE, as `serve 2>FILE`
// would (default: silent, so the tool-call audit lines are built but not written); --no-access:
// leave `echo-access` out (a build from before runtime/access/ refuses its keys).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { ACCESS_LIST } from './access-list.mjs';

const [fixture, sedServer] = [process.argv[2], JSON.parse(process.argv[3])];
const option = (name) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};
const dist = option('--dist') ?? fileURLToPath(new URL('../dist/', import.meta.url));
// Imported from the build under test, so one script drives this tree's gateway and another's.
const from = (path) => import(pathToFileURL(join(dist, path)).href);
const { signAccessToken } = await from('runtime/auth/tokens/access-token.js');
const { gatewayUrls } = await from('runtime/auth/gateway-urls.js');
const { ephemeralKeySet } = await from('runtime/auth/tokens/signing-keys.js');
const { createLocalLogin } = await from('runtime/auth/upstream/local-login.js');
const { parseConfig } = await from('runtime/config/load-config.js');
const { startGateway } = await from('runtime/gateway.js');
const { createLogger, silentLogger } = await from('runtime/logger.js');
const { createEmbeddedStore } = await from('runtime/store/embedded-store.js');
const logFile = option('--log');

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(free));
  });
});
const limits = { maxSessions: 10_000, maxSessionsPerUser: 10_000 };
const config = parseConfig(
  {
    publicUrl: `http://127.0.0.1:${port}`,
    provider: { type: 'local', user: 'bench' },
    allowedUsers: ['bench'],
    servers: {
      echo: { command: process.execPath, args: [fixture], limits },
      'echo-nosandbox': { command: process.execPath, args: [fixture], sandbox: 'off', limits },
      ...(process.argv.includes('--no-access') ? {} : { 'echo-access': { command: process.execPath, args: [fixture], limits, ...ACCESS_LIST } }),
      warm: { command: process.execPath, args: [fixture], pool: 4, limits },
      idle: { command: sedServer.command, args: sedServer.args, limits },
    },
  },
  'bench config',
);
const urls = gatewayUrls(config);
const keys = await ephemeralKeySet();
const store = await createEmbeddedStore();
const upstream = createLocalLogin({ store, user: 'bench', loginUrl: urls.localLogin, announce: () => {} });
const logger =
  logFile === undefined ? silentLogger() : createLogger({ level: 'info', destination: pino.destination({ dest: logFile, append: true, sync: true }) });
// A project directory of its own: stdio servers run sandboxed with the project directory hidden,
// and the repository (where the fixture lives) must stay visible to them, as in `serve`.
const projectDir = mkdtempSync(join(tmpdir(), 'mcpgw-bench-'));
const gateway = await startGateway({ config, store, keys, upstream, logger, projectDir }, { host: '127.0.0.1', port });
const tokens = {};
for (const name of Object.keys(config.servers)) {
  // `login` is what the router passes on as X-User-Login and the tool gate decides by (access-subject.ts).
  const claims = { sub: 'bench', login: 'bench', clientId: 'bench', audience: urls.resourceFor(name) };
  tokens[name] = {
    url: urls.resourceFor(name),
    token: (await signAccessToken(claims, { keys, issuer: urls.issuer, ttlMs: 3_600_000, now: Date.now() })).token,
  };
}
process.send({ port, tokens });
process.on('message', async (message) => {
  if (message?.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send({ type: 'cpu', us: user + system });
  } else if (message?.type === 'memory') {
    for (let i = 0; i < 3; i++) {
      global.gc?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    process.send({ type: 'memory', rss, heapUsed, external, arrayBuffers, sessions: gateway.bridges.get('idle').sessionCount });
  } else if (message === 'stop') {
    await gateway.close();
    rmSync(projectDir, { recursive: true, force: true });
    process.exit(0);
  }
});
