// The whole gateway (router + token check + bridge) in a process of its own, as `serve` runs it:
// startGateway with the local login provider and ephemeral keys. It reports its port and one
// access token per server over IPC, answers {type: 'memory'} with its memory after a GC
// (run with --expose-gc) and {type: 'cpu'} with its CPU time so far (its own, not its children's).
// `echo` runs sandboxed (bubblewrap on Linux), as `serve` runs every stdio server by default;
// `echo-nosandbox` is the same server with `sandbox: off`, so the sandbox's cost is a number.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signAccessToken } from '../dist/runtime/auth/tokens/access-token.js';
import { gatewayUrls } from '../dist/runtime/auth/gateway-urls.js';
import { ephemeralKeySet } from '../dist/runtime/auth/tokens/signing-keys.js';
import { createLocalLogin } from '../dist/runtime/auth/upstream/local-login.js';
import { parseConfig } from '../dist/runtime/config/load-config.js';
import { startGateway } from '../dist/runtime/gateway.js';
import { silentLogger } from '../dist/runtime/logger.js';
import { createEmbeddedStore } from '../dist/runtime/store/embedded-store.js';

const [fixture, sedServer] = [process.argv[2], JSON.parse(process.argv[3])];
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
// A project directory of its own: stdio servers run sandboxed with the project directory hidden,
// and the repository (where the fixture lives) must stay visible to them, as in `serve`.
const projectDir = mkdtempSync(join(tmpdir(), 'mcpgw-bench-'));
const gateway = await startGateway({ config, store, keys, upstream, logger: silentLogger(), projectDir }, { host: '127.0.0.1', port });
const tokens = {};
for (const name of Object.keys(config.servers)) {
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
