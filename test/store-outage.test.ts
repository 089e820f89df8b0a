import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import { createRedisStore } from '../runtime/store/redis-store.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { startRedis } from './helpers/redis-server.js';

const REDIS_MISSING = 'redis-server not found: install it (apt-get install -y redis-server) to run the store-outage tests';

/** Regression: with Redis down, MCP requests and /token answered 500 server_error. */
describe('a store outage is answered like a service: 503 with Retry-After, then service resumes', () => {
  let redis: { url: string; stop(): Promise<void> } | { skip: string };
  let h: GatewayHarness;
  let token: string;
  let port: number;
  let clientId: string;

  beforeAll(async () => {
    redis = await startRedis({ private: true });
    if ('skip' in redis) return;
    port = Number(new URL(redis.url).port);
    const url = redis.url;
    h = await startGatewayHarness(
      {},
      { store: () => createRedisStore({ url, keyPrefix: `outage-${randomBytes(4).toString('hex')}:`, connectTimeoutMs: 1_000 }) },
    );
    const claims = { sub: 'github:1001', login: 'alice', uid: 1001, clientId: 'test-client', audience: h.urls.resourceFor('echo'), allowedBy: 'user:alice' };
    token = (await signAccessToken(claims, { keys: h.keys, issuer: h.urls.issuer, ttlMs: 3_600_000, now: Date.now() })).token;
    const registered = await fetch(`${h.urls.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    expect(registered.status).toBe(201);
    clientId = ((await registered.json()) as { client_id: string }).client_id;
  }, 30_000);
  afterAll(async () => {
    await h?.close();
    if (redis !== undefined && !('skip' in redis)) await redis.stop();
  });

  const mcp = (): Promise<Response> =>
    fetch(h.urls.resourceFor('echo'), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'outage', version: '1' } },
      }),
    });
  const requests: Record<string, () => Promise<Response>> = {
    mcp,
    token: () =>
      fetch(`${h.urls.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_id: clientId }),
      }),
    register: () =>
      fetch(`${h.urls.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
      }),
    authorize: () =>
      fetch(
        `${h.urls.issuer}/authorize?${new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource: h.urls.resourceFor('echo') })}`,
        { redirect: 'manual' },
      ),
    verify: () =>
      fetch(`${h.urls.issuer}/verify`, {
        headers: {
          authorization: `Bearer ${token}`,
          'x-forwarded-method': 'POST',
          'x-forwarded-uri': '/echo/mcp',
          'x-forwarded-host': new URL(h.urls.issuer).host,
        },
      }),
  };

  it('answers 503 with Retry-After on MCP, /token, /register, /authorize and /verify, admits nothing, and recovers', async (ctx) => {
    if ('skip' in redis) {
      if (process.env['CI']) throw new Error(`Redis is required in CI: ${REDIS_MISSING}`);
      ctx.skip();
      return;
    }
    const before = await mcp();
    expect(before.status, await before.clone().text()).toBe(200);
    // Load through the outage: four clients sending MCP, /register and /token requests, statuses counted.
    const counts = new Map<number, number>();
    let loading = true;
    const load = Array.from({ length: 4 }, async (_, i) => {
      const kinds = Object.values(requests);
      for (let n = i; loading; n++) {
        const res = await kinds[n % kinds.length]!();
        await res.arrayBuffer();
        counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.stop();
    for (const [name, send] of Object.entries(requests)) {
      const res = await send();
      const body = await res.text();
      expect(res.status, `${name}: ${body}`).toBe(503);
      expect(res.headers.get('retry-after'), name).toMatch(/^\d+$/);
      expect(body, name).not.toMatch(/server_error/);
    }
    redis = await startRedis({ private: true, port });
    if ('skip' in redis) throw new Error('redis-server vanished');
    await expect.poll(async () => (await mcp()).status, { timeout: 10_000, interval: 250 }).toBe(200);
    expect((await requests['register']!()).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 300));
    loading = false;
    await Promise.all(load);
    const seen = Object.fromEntries(counts);
    console.info(`statuses under load through a Redis stop and start: ${JSON.stringify(seen)}`);
    // Served (200/201/302), the client's own mistakes (400/401 for the junk refresh token), or 503 while Redis was down: never a 5xx other than 503.
    expect(
      Object.keys(seen).filter((status) => Number(status) >= 500 && Number(status) !== 503),
      JSON.stringify(seen),
    ).toEqual([]);
    expect(seen[503] ?? 0).toBeGreaterThan(0);
  }, 40_000);
});

describe('the embedded database locked past its busy timeout', () => {
  it('answers /register 503 with Retry-After while another process holds the write lock, 201 once it lets go', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createSqliteStore } = await import('../runtime/store/sqlite-store.js');
    const dir = await mkdtemp(join(tmpdir(), 'mcpgw-locked-'));
    const path = join(dir, 'store.sqlite');
    const h = await startGatewayHarness({}, { store: () => createSqliteStore({ path, busyTimeoutMs: 300 }) });
    const other = new Database(path);
    try {
      const register = (): Promise<Response> =>
        fetch(`${h.urls.issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
        });
      expect((await register()).status).toBe(201);
      other.exec('BEGIN EXCLUSIVE');
      const locked = await register();
      expect(locked.status, await locked.clone().text()).toBe(503);
      expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
      other.exec('COMMIT');
      expect((await register()).status).toBe(201);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
