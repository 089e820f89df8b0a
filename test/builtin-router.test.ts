import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthApp } from '../runtime/auth/auth-app.js';
import { createAuthContext } from '../runtime/auth/auth-context.js';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import { ephemeralKeySet, type KeySet } from '../runtime/auth/tokens/signing-keys.js';
import { createLocalLogin } from '../runtime/auth/upstream/local-login.js';
import { createRequestVerifier } from '../runtime/auth/tokens/verify-request.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { silentLogger } from '../runtime/logger.js';
import { createBuiltinRouter } from '../runtime/router/builtin-router.js';
import type { McpEndpoint } from '../runtime/bridge/bridge.js';
import { createEmbeddedStore } from '../runtime/store/embedded-store.js';

/**
 * The router in front of a service that records what it receives: the MCP server's view of a
 * request. The bridge itself is tested in bridge-*.test.ts; here only the router's contract.
 */
let server: Server;
let base: string;
let keys: KeySet;
let seen: IncomingMessage['headers'][] = [];
const issuer = 'http://127.0.0.1:1';

beforeAll(async () => {
  const config = parseConfig(
    { publicUrl: issuer, provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'], servers: { echo: { command: 'true' } } },
    'test',
  );
  const store = await createEmbeddedStore({});
  keys = await ephemeralKeySet();
  const logger = silentLogger();
  const ctx = createAuthContext({
    config,
    store,
    keys,
    logger,
    upstream: createLocalLogin({ store, user: 'alice', loginUrl: `${issuer}/login/local`, announce: () => {} }),
  });
  const app = createAuthApp(ctx);
  const recorder: McpEndpoint = {
    async handle(req, res) {
      seen.push({ ...req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    },
  };
  server = createServer(
    createBuiltinRouter({
      urls: ctx.urls,
      forwardAuth: createRequestVerifier(ctx),
      services: new Map([['echo', recorder]]),
      auth: (req, res) => app(req, res),
      health: (_req, res) => void res.writeHead(200).end('ok'),
      logger,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function tokenFor(login: string): Promise<string> {
  return (
    await signAccessToken({ sub: login.toLowerCase(), login, clientId: 'c1', audience: `${issuer}/echo/mcp` }, { keys, issuer, ttlMs: 60_000, now: Date.now() })
  ).token;
}

describe('built-in router', () => {
  it('never passes the client token or cookies to the MCP server, and replaces forged identity headers', async () => {
    seen = [];
    const res = await fetch(`${base}/echo/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await tokenFor('alice')}`,
        cookie: 'session=secret',
        'x-user-sub': 'root',
        'x-user-login': 'root',
        'x-user-scope': 'admin',
        'content-type': 'application/json',
      },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    const headers = seen[0]!;
    expect(headers['authorization']).toBeUndefined();
    expect(headers['cookie']).toBeUndefined();
    expect(headers['x-user-sub']).toBe('alice');
    expect(headers['x-user-login']).toBe('alice');
    expect(headers['x-user-client-id']).toBe('c1');
    expect(headers['x-user-scope']).toBeUndefined();
  });

  it('does not reach the MCP server without a valid token', async () => {
    seen = [];
    const res = await fetch(`${base}/echo/mcp`, { method: 'POST', headers: { 'x-user-sub': 'alice' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(0);
  });

  it('answers CORS preflights without a challenge and without reaching the server', async () => {
    seen = [];
    const res = await fetch(`${base}/echo/mcp`, { method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
    expect(seen).toHaveLength(0);
  });

  it('implements the ForwardAuth contract at /verify from X-Forwarded-* headers', async () => {
    const ok = await fetch(`${base}/verify`, {
      headers: {
        'x-forwarded-method': 'POST',
        'x-forwarded-uri': '/echo/mcp',
        'x-forwarded-host': '127.0.0.1:1',
        authorization: `Bearer ${await tokenFor('alice')}`,
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-user-login')).toBe('alice');
    const denied = await fetch(`${base}/verify`, { headers: { 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/echo/mcp' } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${issuer}/.well-known/oauth-protected-resource/echo/mcp"`);
    const unknown = await fetch(`${base}/verify`, { headers: { 'x-forwarded-uri': '/nope/mcp', authorization: `Bearer ${await tokenFor('alice')}` } });
    expect(unknown.status).toBe(404);
  });

  it('routes everything else to the auth runtime, with JSON 404 for unknown paths', async () => {
    expect((await fetch(`${base}/.well-known/oauth-authorization-server`)).status).toBe(200);
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as Record<string, unknown>)['error']).toBe('not_found');
  });
});
