import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHarness } from './helpers/gateway-harness.js';
import { expectHealthy, expectNo5xx, startHostileHarness } from './helpers/hostile.js';
import { authorizeUrl, loginAndConsent, newPkce, registerClient, tokenRequest } from './helpers/oauth-flow.js';
import { TestBrowser } from './helpers/test-browser.js';

/**
 * RFC 8252 §7.3: a loopback redirect URI matches with any port (a native app gets its port from
 * the OS when it starts listening); everything else about it, and every other redirect URI, is
 * still compared as an exact string (runtime/auth/clients/redirect-match.ts). And /token must still name
 * the redirect URI exactly as /authorize did, port included (RFC 6749 §4.1.3).
 */
let h: GatewayHarness;

beforeAll(async () => {
  h = await startHostileHarness();
});
afterAll(async () => {
  await h?.close();
});

async function codeVia(clientId: string, redirectUri: string): Promise<{ code: string; verifier: string; to: URL }> {
  const pkce = newPkce();
  const result = await loginAndConsent(
    h,
    {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      state: 'st',
      resource: h.urls.resourceFor('echo'),
    },
    new TestBrowser(redirectUri),
  );
  const code = result.redirectedTo?.searchParams.get('code');
  if (!code) throw new Error(`no code for ${redirectUri}: ${result.page?.body.slice(0, 300) ?? ''}`);
  return { code, verifier: pkce.verifier, to: result.redirectedTo! };
}

async function authorizeStatus(clientId: string, redirectUri: string): Promise<{ status: number; location: string | null }> {
  const res = await fetch(
    authorizeUrl(h, {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: newPkce().challenge,
      code_challenge_method: 'S256',
      state: 's',
    }),
    { redirect: 'manual' },
  );
  await res.arrayBuffer();
  expectNo5xx(res.status, redirectUri);
  return { status: res.status, location: res.headers.get('location') };
}

describe('loopback redirect URIs match with any port (RFC 8252 §7.3)', () => {
  for (const [label, registered, requested] of [
    ['IPv4 loopback', 'http://127.0.0.1:53682/callback', 'http://127.0.0.1:61234/callback'],
    ['IPv6 loopback', 'http://[::1]:8080/cb', 'http://[::1]:49152/cb'],
    ['IPv4 loopback registered without a port', 'http://127.0.0.1/callback', 'http://127.0.0.1:33418/callback'],
    ['localhost (Claude Code, MCP Inspector)', 'http://localhost:6274/oauth/callback', 'http://localhost:40111/oauth/callback'],
  ] as const) {
    it(`delivers the code to the requested port of a ${label} redirect URI, and redeems it naming that port`, async () => {
      const client = await registerClient(h, { redirect_uris: [registered] });
      const { code, verifier, to } = await codeVia(client.client_id, requested);
      expect(`${to.origin}${to.pathname}`).toBe(requested);
      const token = await tokenRequest(h, {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: requested,
        client_id: client.client_id,
      });
      expect(token.status, JSON.stringify(token.body)).toBe(200);
    });
  }

  it('a code issued for one loopback port is not redeemed naming another port, nor the registered one', async () => {
    const registered = 'http://127.0.0.1:53682/callback';
    const client = await registerClient(h, { redirect_uris: [registered] });
    for (const named of ['http://127.0.0.1:61235/callback', registered]) {
      const { code, verifier } = await codeVia(client.client_id, 'http://127.0.0.1:40000/callback');
      const token = await tokenRequest(h, {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: named,
        client_id: client.client_id,
      });
      expect(token.status, named).toBe(400);
      expect(token.body['error']).toBe('invalid_grant');
    }
  });

  it('port freedom never extends to the scheme, host, path or query of a loopback URI', async () => {
    const client = await registerClient(h, { redirect_uris: ['http://127.0.0.1:53682/callback?app=1', 'http://[::1]:8080/cb'] });
    const variants = [
      'http://127.0.0.1:9999/callback',
      'http://127.0.0.1:9999/callback?app=2',
      'http://127.0.0.1:9999/callback?app=1&x=1',
      'http://127.0.0.1:9999/callback/?app=1',
      'http://127.0.0.1:9999/CALLBACK?app=1',
      'http://127.0.0.1:9999/x/../callback?app=1',
      'https://127.0.0.1:9999/callback?app=1',
      'HTTP://127.0.0.1:9999/callback?app=1',
      'http://localhost:9999/callback?app=1',
      'http://127.0.0.2:9999/callback?app=1',
      'http://[::1]:9999/callback?app=1',
      'http://127.0.0.1.attacker.example:9999/callback?app=1',
      'http://127.0.0.1:9999@attacker.example/callback?app=1',
      'http://127.0.0.1:9999\\@attacker.example/callback?app=1',
      'http://127.0.0.1:/callback?app=1',
      'http://127.0.0.1:0/callback?app=1',
      'http://127.0.0.1:65536/callback?app=1',
      'http://127.0.0.1:123456/callback?app=1',
      'http://127.0.0.1:9999/callback?app=1#x',
      'http://[0:0:0:0:0:0:0:1]:9999/cb',
      'http://[::1]:9999/cb/',
      'http://[::ffff:127.0.0.1]:9999/cb',
    ];
    const letThrough: string[] = [];
    for (const uri of variants) {
      const { status, location } = await authorizeStatus(client.client_id, uri);
      if (status !== 400 || location !== null) letThrough.push(`${uri}: ${status} ${location ?? ''}`);
    }
    expect(letThrough).toEqual([]);
    // The registered ones on another port do pass the redirect check (they go on to the login).
    expect((await authorizeStatus(client.client_id, 'http://127.0.0.1:9999/callback?app=1')).status).toBe(302);
    expect((await authorizeStatus(client.client_id, 'http://[::1]:9999/cb')).status).toBe(302);
  });

  it('a non-loopback redirect URI still needs its exact port', async () => {
    const client = await registerClient(h, { redirect_uris: ['https://app.example:8443/cb', 'cursor://anysphere.cursor-mcp:1234/cb'] });
    for (const uri of ['https://app.example:9443/cb', 'https://app.example/cb', 'cursor://anysphere.cursor-mcp:4321/cb']) {
      const { status, location } = await authorizeStatus(client.client_id, uri);
      expect(status, uri).toBe(400);
      expect(location, uri).toBeNull();
    }
  });
});

describe('after all of the above', () => {
  it('still answers /health', async () => {
    await expectHealthy(h.urls.issuer);
  });
});
