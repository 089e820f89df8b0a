import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHarness } from './helpers/gateway-harness.js';
import { genuineToken } from './helpers/forged-tokens.js';
import { expectHealthy, expectNo5xx, registerConfidential, startHostileHarness, type ConfidentialClient } from './helpers/hostile.js';
import { CLIENT_REDIRECT, newPkce } from './helpers/oauth-flow.js';
import { send, sendBytes } from './helpers/raw-http.js';

/**
 * Hostile request lines: query strings, methods, paths (traversal, encodings, prototype names),
 * huge headers and bytes no HTTP client would send. Nothing may produce a 5xx, and no odd path
 * may reach something its canonical form does not.
 */
let h: GatewayHarness;
let client: ConfidentialClient;
let token: string;

beforeAll(async () => {
  h = await startHostileHarness();
  client = await registerConfidential(h);
  token = await genuineToken(h, h.urls.resourceFor('echo'));
});
afterAll(async () => {
  await h?.close();
});

const QUERIES = [
  'client_id=a&client_id=b&redirect_uri=x&redirect_uri=y&state=1&state=2&txn=a&txn=b',
  'client_id[]=a&state[x]=1&redirect_uri[]=y&code[a][b]=c',
  'client_id=%00&state=%0d%0aSet-Cookie:%20x=1&redirect_uri=%1b%5b2J&code=%7f',
  'client_id=%F0%9F%99%82&state=%E2%80%AE%E6%BC%A2&scope=%C0%80',
  'client_id=%ZZ&state=%&redirect_uri=%E0%A4%A',
  `state=${'s'.repeat(8000)}&scope=${'x'.repeat(4000)}`,
  Array.from({ length: 2000 }, (_, i) => `p${i}=${i}`).join('&'),
  '__proto__=x&constructor=y&client_id=__proto__&hasOwnProperty=z',
  'client_id=constructor&response_type=code',
  ';;;&&&===??',
];

describe('hostile query strings', () => {
  it('answers every GET endpoint with a 4xx at worst and never a broken Location', async () => {
    // /health honestly answers 503 while the first probe of a server runs (slow under load);
    // the hostile queries are about the request line, so they start once it is healthy.
    await expectHealthy(h.urls.issuer);
    const pkce = newPkce();
    const registration = new URL(client.registrationClientUri).pathname;
    // A request that passes client and redirect checks, so the hostile parameters reach the code after them.
    const valid = `response_type=code&client_id=${client.clientId}&redirect_uri=${encodeURIComponent(CLIENT_REDIRECT)}&code_challenge=${pkce.challenge}&code_challenge_method=S256`;
    const paths = [
      '/authorize',
      `/authorize?${valid}&`,
      '/callback',
      '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-protected-resource/echo/mcp',
      '/jwks.json',
      '/health',
      registration,
      '/login/local',
      '/echo/mcp',
    ];
    for (const path of paths) {
      for (const query of QUERIES) {
        const target = path.includes('?') ? `${path}${query}` : `${path}?${query}`;
        const res = await send(h.urls.issuer, {
          path: target,
          headers: { authorization: path.startsWith('/register') ? `Bearer ${client.registrationAccessToken}` : `Bearer ${token}` },
        });
        expectNo5xx(res.status, target.slice(0, 120));
        const location = res.headers.location;
        if (location !== undefined) {
          expect(location, target.slice(0, 120)).not.toMatch(/[\r\n\0]/);
          expect(URL.canParse(location, h.urls.issuer), location).toBe(true);
        }
      }
    }
  });
});

describe('methods not allowed', () => {
  const PATHS = [
    '/token',
    '/authorize',
    '/register',
    '/register/some-client',
    '/revoke',
    '/introspect',
    '/consent',
    '/callback',
    '/jwks.json',
    '/.well-known/oauth-authorization-server',
    '/.well-known/oauth-protected-resource/echo/mcp',
    '/verify',
    '/health',
    '/echo/mcp',
    '/login/local',
  ];
  const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'MKCOL', 'PURGE'];

  it('answers every method on every path without a 5xx', async () => {
    for (const path of PATHS) {
      for (const method of METHODS) {
        const res = await send(h.urls.issuer, {
          method,
          path,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: method === 'GET' || method === 'HEAD' ? undefined : '{}',
        });
        expectNo5xx(res.status, `${method} ${path}`);
      }
    }
  });

  it('answers the wrong method on an OAuth endpoint with 404 or 405', async () => {
    for (const [method, path] of [
      ['PUT', '/token'],
      ['GET', '/token'],
      ['DELETE', '/authorize'],
      ['POST', '/authorize'],
      ['PATCH', '/register'],
      ['GET', '/revoke'],
      ['DELETE', '/introspect'],
      ['PUT', '/consent'],
      ['POST', '/jwks.json'],
      ['DELETE', '/.well-known/oauth-authorization-server'],
    ] as const) {
      const res = await send(h.urls.issuer, {
        method,
        path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: method === 'GET' ? undefined : 'a=b',
      });
      expect([404, 405], `${method} ${path}`).toContain(res.status);
    }
  });
});

describe('odd paths', () => {
  const ODD = [
    '/..%2fregister',
    '/..%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '//register',
    '///token',
    '/register/%00',
    '/register/%2e%2e',
    '/register/..',
    '/register/%ZZ',
    '/register/..%2f..%2fhealth',
    `/register/${'x'.repeat(5000)}`,
    '/.well-known/oauth-protected-resource/../../x',
    '/.well-known/oauth-protected-resource/%2e%2e/%2e%2e/register',
    '/.well-known/oauth-protected-resource/echo/mcp/../../../register',
    '/.well-known/oauth-protected-resource/__proto__/mcp',
    '/.well-known/../register',
    '/.well-known/oauth-authorization-server/../../token',
    '/echo/mcp/../../register',
    '/echo%2fmcp',
    '/echo/mcp%00',
    '/__proto__/mcp',
    '/constructor/mcp',
    '/%00',
    '/\\register',
    '/health/../register',
    '/token;jsessionid=1',
    '*',
    'http://evil.example/health',
    `/${'a'.repeat(8000)}`,
  ];

  it('answers every odd path without a 5xx, and none of them registers a client or returns another one', async () => {
    for (const path of ODD) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const res = await send(h.urls.issuer, {
          method,
          path,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${client.registrationAccessToken}` },
          body: method === 'GET' ? undefined : '{"redirect_uris":["https://app.example/cb"]}',
        });
        expectNo5xx(res.status, `${method} ${path.slice(0, 80)}`);
        expect(res.status, `${method} ${path.slice(0, 80)} must not register`).not.toBe(201);
        expect(res.body, `${method} ${path.slice(0, 80)}`).not.toContain('registration_access_token');
      }
    }
    // The client whose registration access token was sent with every request survived the DELETEs.
    expect((await fetch(client.registrationClientUri, { headers: { authorization: `Bearer ${client.registrationAccessToken}` } })).status).toBe(200);
  });

  it('never routes an odd path to an MCP server', async () => {
    for (const path of ['/echo/mcp/..', '/echo/mcp/../mcp', '//echo/mcp', '/echo//mcp', '/ECHO/mcp', '/%65cho/mcp', '/echo/mcp/x', '/./echo/mcp']) {
      const res = await send(h.urls.issuer, {
        method: 'POST',
        path,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expectNo5xx(res.status, path);
      expect(res.body, path).not.toContain('jsonrpc');
    }
  });
});

describe('bytes no client would send', () => {
  it('answers huge and many headers with 431 or less, never 5xx', async () => {
    expect((await send(h.urls.issuer, { path: '/health', headers: { 'x-big': 'a'.repeat(20_000) } })).status).toBe(431);
    expect((await send(h.urls.issuer, { path: '/token', method: 'POST', headers: { cookie: 'c'.repeat(17_000) } })).status).toBe(431);
    const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-h${i}`, '1']));
    expectNo5xx((await send(h.urls.issuer, { path: '/health', headers: many })).status, '3000 headers');
    expect((await send(h.urls.issuer, { path: `/authorize?state=${'a'.repeat(20_000)}` })).status).toBe(431);
  });

  it('answers malformed HTTP with 400 or a closed connection', async () => {
    const raw = [
      'GET /health HTTP/1.1\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n',
      'GET /health HTTP/1.1\nHost: x\n\n',
      'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type',
      'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      'GET /\r\n',
      `${'G'.repeat(5000)} / HTTP/1.1\r\nHost: x\r\n\r\n`,
      'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n',
      '\r\n\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nX-\u00ff\u00fe: \u0080\r\n\r\n',
    ];
    for (const bytes of raw) {
      const { status } = await sendBytes(h.urls.issuer, Buffer.from(bytes, 'latin1'));
      expect(status === 0 || (status >= 200 && status < 500), `${JSON.stringify(bytes.slice(0, 60))}: ${status}`).toBe(true);
    }
  });

  it('answers an HTTP version it does not speak with 505 at most, from Node itself', async () => {
    // 505 is the one 5xx the HTTP parser may legitimately answer; it never reaches the gateway's code.
    const { status } = await sendBytes(h.urls.issuer, 'GET /health HTTP/3.0\r\nHost: x\r\n\r\n');
    expect([0, 400, 505]).toContain(status);
  });
});

describe('after all of the above', () => {
  it('still answers /health', async () => {
    await expectHealthy(h.urls.issuer);
  });
});
