// What a request to a remote server with its own OAuth (servers.NAME.oauth) adds to /verify:
// the user's upstream token read from the vault (one store get, one AES-256-GCM open) when it
// needs no refresh. In this process, without HTTP, on the embedded store (SQLite) and, when
// REDIS_URL is set, on Redis. CPU µs per call (process.cpuUsage), steadier than wall time here.
//   npm run build && node bench/upstream-token-micro.mjs
import { randomBytes } from 'node:crypto';
import { createSealedBox } from '../dist/runtime/auth/sealed-box.js';
import { createUpstreamTokenVault } from '../dist/runtime/auth/upstream-oauth/upstream-token-vault.js';
import { silentLogger } from '../dist/runtime/logger.js';
import { createEmbeddedStore } from '../dist/runtime/store/embedded-store.js';
import { createRedisStore } from '../dist/runtime/store/redis-store.js';

const CALLS = 20_000;
const client = {
  issuer: 'https://as.example',
  tokenEndpoint: new URL('https://as.example/token'),
  clientId: 'gateway',
  resource: new URL('https://mcp.example/mcp'),
};
const post = async () => {
  throw new Error('no refresh is expected in this bench');
};

async function measure(label, store) {
  const vault = createUpstreamTokenVault({ store, sealedBox: createSealedBox(randomBytes(32)), logger: silentLogger(), post });
  await vault.save(
    'github:1',
    'remote',
    { access_token: randomBytes(600).toString('base64url'), token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' },
    client,
  );
  for (let i = 0; i < CALLS / 10; i++) await vault.accessToken('github:1', 'remote');
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await vault.accessToken('github:1', 'remote');
  const used = process.cpuUsage(cpu);
  const wallUs = Number(process.hrtime.bigint() - started) / CALLS / 1000;
  console.log(`${label.padEnd(10)} ${((used.user + used.system) / CALLS).toFixed(1).padStart(6)} µs CPU per call (${wallUs.toFixed(1)} µs wall)`);
  await store.close();
}

await measure('embedded', await createEmbeddedStore({}));
if (process.env.REDIS_URL)
  await measure('redis', await createRedisStore({ url: process.env.REDIS_URL, keyPrefix: `mcpgw-bench-${randomBytes(4).toString('hex')}:` }));
