// One target of `npm run bench:verify`, in a process of its own so that it does not share an
// event loop with the load generator. `node verify-bench-server.mjs hello` is a bare node:http
// hello-world; `... verify` is the whole embedded gateway (startGateway from dist/, local login,
// in-memory embedded store, ephemeral keys) answering ForwardAuth at /verify. It reports
// { url, headers } over IPC: where to send requests and the headers that make them succeed.
import { createServer } from 'node:http';
import { signAccessToken } from '../dist/runtime/auth/tokens/access-token.js';
import { gatewayUrls } from '../dist/runtime/auth/gateway-urls.js';
import { ephemeralKeySet } from '../dist/runtime/auth/tokens/signing-keys.js';
import { createLocalLogin } from '../dist/runtime/auth/upstream/local-login.js';
import { parseConfig } from '../dist/runtime/config/load-config.js';
import { startGateway } from '../dist/runtime/gateway.js';
import { silentLogger } from '../dist/runtime/logger.js';
import { createEmbeddedStore } from '../dist/runtime/store/embedded-store.js';

const kind = process.argv[2];

async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

async function helloWorld() {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello world');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, headers: {} };
}

async function verifyEndpoint() {
  const port = await freePort();
  const config = parseConfig(
    {
      publicUrl: `http://127.0.0.1:${port}`,
      provider: { type: 'local', user: 'bench' },
      allowedUsers: ['bench'],
      servers: { echo: { builtin: 'demo' }, other: { builtin: 'demo' } },
    },
    'verify bench config',
  );
  const urls = gatewayUrls(config);
  const keys = await ephemeralKeySet();
  const store = await createEmbeddedStore();
  const upstream = createLocalLogin({ store, user: 'bench', loginUrl: urls.localLogin, announce: () => {} });
  await startGateway({ config, store, keys, upstream, logger: silentLogger(), projectDir: process.cwd() }, { host: '127.0.0.1', port });
  // A token like the token endpoint issues: with a grant family, so /verify checks both revocation markers.
  const { token } = await signAccessToken(
    { sub: 'bench', login: 'bench', clientId: 'bench-client', audience: urls.resourceFor('echo'), familyId: 'bench-family' },
    { keys, issuer: urls.issuer, ttlMs: 3_600_000, now: Date.now() },
  );
  return {
    url: `${urls.issuer}/verify`,
    headers: {
      authorization: `Bearer ${token}`,
      'x-forwarded-method': 'POST',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': `127.0.0.1:${port}`,
      'x-forwarded-uri': '/echo/mcp',
    },
  };
}

const target = kind === 'hello' ? await helloWorld() : kind === 'verify' ? await verifyEndpoint() : undefined;
if (!target) {
  console.error(`usage: node ${process.argv[1]} hello|verify`);
  process.exit(2);
}
process.send?.(target);
// --cpu-prof writes its profile on a normal exit, so leave through process.exit on SIGTERM.
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
