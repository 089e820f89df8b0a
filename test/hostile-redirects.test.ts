import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHarness } from './helpers/gateway-harness.js';
import { expectHealthy, expectNo5xx, startHostileHarness } from './helpers/hostile.js';
import { logRecords } from './helpers/log-records.js';
import { authorizeUrl, newPkce, registerClient } from './helpers/oauth-flow.js';

/**
 * The redirect-URI policy (DESIGN.md; RFC 6749 §3.1.2, RFC 8252 §7, OAuth 2.1 §2.3.1): at
 * registration only https, http on loopback and private-use schemes, never script-bearing schemes,
 * fragments or credentials; at /authorize an exact string match, and no redirect at all when it fails.
 */
let h: GatewayHarness;
/** The gateway's log lines, parsed. */
const { logger, records: logged } = logRecords();

beforeAll(async () => {
  h = await startHostileHarness({}, { logger });
});
afterAll(async () => {
  await h?.close();
});

function register(redirectUris: unknown): Promise<Response> {
  return fetch(h.urls.registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'redirect tests', token_endpoint_auth_method: 'none', redirect_uris: redirectUris }),
  });
}

describe('registration (RFC 7591)', () => {
  it('refuses script-bearing, opaque, fragment, credential and non-loopback http redirect URIs with invalid_redirect_uri', async () => {
    const refused = [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'javascript://claude.ai/%0aalert(1)',
      'data:text/html,<script>alert(1)</script>',
      'DATA:text/html;base64,PHNjcmlwdD4=',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'blob:https://claude.ai/0b7c',
      'about:blank',
      'ws://127.0.0.1/cb',
      'https://good.example/cb#frag',
      'https://good.example/cb#',
      'https://good@evil.example/cb',
      'https://user:pass@good.example/cb',
      'http://localhost.evil.com/cb',
      'http://127.0.0.1.nip.io/cb',
      'http://evil.example/cb',
      'http://10.0.0.1/cb',
      'http://192.168.1.1:8080/cb',
      '/relative/callback',
      'callback',
      '',
      'https://',
      'http://localhost:99999/cb',
      `https://app.example/${'a'.repeat(2100)}`,
    ];
    const accepted: string[] = [];
    for (const uri of refused) {
      const res = await register([uri]);
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 400 || body['error'] !== 'invalid_redirect_uri')
        accepted.push(`${JSON.stringify(uri.slice(0, 60))}: ${res.status} ${String(body['error'])}`);
    }
    expect(accepted).toEqual([]);
  });

  it('audits a refused registration with its error, a bounded one-line reason and the address, disguises replaced', async () => {
    const marker = `https://app.example/cb\u202Egpj.exe/\n{"event":"forged"}/${'x'.repeat(1000)}`;
    const res = await register([marker]);
    expect(res.status).toBe(400);
    const refused = logged.filter((line) => line['event'] === 'client_registration_refused' && String(line['reason']).includes('gpj.exe'));
    expect(refused).toHaveLength(1);
    const [line] = refused;
    expect(line).toMatchObject({ audit: true, error: 'invalid_redirect_uri', ip: '127.0.0.1' });
    const reason = String(line!['reason']);
    expect(reason.length).toBeLessThanOrEqual(300);
    expect(reason).not.toMatch(/[\u202E\n]/);
    expect(logged.some((l) => l['event'] === 'forged')).toBe(false);

    const notJson = await fetch(h.urls.registrationEndpoint, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(notJson.status).toBe(400);
    expect(logged.at(-1)).toMatchObject({ event: 'client_registration_refused', error: 'invalid_client_metadata' });
  });

  it('refuses redirect_uris of the wrong shape with a 400', async () => {
    for (const value of [
      [],
      [123],
      [null],
      [{}],
      [['https://app.example/cb']],
      'https://app.example/cb',
      {},
      null,
      Array.from({ length: 21 }, (_, i) => `https://app.example/cb${i}`),
    ]) {
      const res = await register(value);
      expect(res.status, JSON.stringify(value).slice(0, 60)).toBe(400);
    }
  });

  it('accepts the callbacks real clients use, IPv6 loopback and private-use schemes', async () => {
    for (const uri of [
      'https://claude.ai/api/mcp/auth_callback',
      'https://claude.com/api/mcp/auth_callback',
      'https://chatgpt.com/connector/oauth/abc123',
      'https://chatgpt.com/connector_platform_oauth_redirect',
      'http://localhost:6274/oauth/callback',
      'http://127.0.0.1:33418/callback',
      'http://[::1]:8080/cb',
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'vscode://vscode.github-authentication/did-authenticate',
      'com.example.app:/oauth2redirect',
    ]) {
      const res = await register([uri]);
      expect(res.status, uri).toBe(201);
      expect(((await res.json()) as Record<string, unknown>)['redirect_uris']).toEqual([uri]);
    }
  });
});

describe('authorization request: exact redirect match', () => {
  const CLAUDE = 'https://claude.ai/api/mcp/auth_callback';
  const LOOPBACK = 'http://127.0.0.1:53682/callback';

  it('shows an error page and never redirects for any variant of a registered redirect URI', async () => {
    const client = await registerClient(h, { redirect_uris: [CLAUDE, LOOPBACK] });
    const pkce = newPkce();
    const variants = [
      'https://claude.ai.evil.com/api/mcp/auth_callback',
      'https://CLAUDE.AI/api/mcp/auth_callback',
      'HTTPS://claude.ai/api/mcp/auth_callback',
      'https://claude.ai/api/mcp/auth_callback/',
      'https://claude.ai/api/mcp/auth_callback?x=1',
      'https://claude.ai/api/mcp/auth_callback#x',
      'https://claude.ai/api/mcp/auth%5Fcallback',
      'https://claude.ai/api/mcp/auth_callback%2f..%2f..%2fevil',
      'https://claude.ai/api/mcp/auth_callback/../../evil',
      'https://claude.ai/api/mcp/../mcp/auth_callback',
      'https://claude.ai:443/api/mcp/auth_callback',
      'https://evil@claude.ai/api/mcp/auth_callback',
      'https://claude.ai@evil.example/api/mcp/auth_callback',
      'https://claude.ai%2f@evil.example/api/mcp/auth_callback',
      'https://claude.ai\\@evil.example/api/mcp/auth_callback',
      ' https://claude.ai/api/mcp/auth_callback',
      'https://claude.ai/api/mcp/auth_callback ',
      'https://claude.ai/api/mcp/auth_callback\r\nSet-Cookie: x=1',
      '//claude.ai/api/mcp/auth_callback',
      'http://claude.ai/api/mcp/auth_callback',
      'javascript:alert(1)//https://claude.ai/api/mcp/auth_callback',
      'http://localhost:53682/callback',
      'http://[::1]:53682/callback',
      'http://127.0.0.1:53682/callback/',
      'http://127.0.0.1:53682/CALLBACK',
      'http://127.0.0.1:53682/callback?',
    ];
    const redirected: string[] = [];
    for (const redirect of variants) {
      const res = await fetch(
        authorizeUrl(h, {
          response_type: 'code',
          client_id: client.client_id,
          redirect_uri: redirect,
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
          state: 's',
        }),
        { redirect: 'manual' },
      );
      expectNo5xx(res.status, redirect);
      if (res.status !== 400 || res.headers.get('location') !== null)
        redirected.push(`${JSON.stringify(redirect)}: ${res.status} ${res.headers.get('location') ?? ''}`);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      await res.arrayBuffer();
    }
    expect(redirected).toEqual([]);
  });

  it('requires redirect_uri when several are registered, and never guesses one', async () => {
    const client = await registerClient(h, { redirect_uris: [CLAUDE, LOOPBACK] });
    const res = await fetch(
      authorizeUrl(h, { response_type: 'code', client_id: client.client_id, code_challenge: newPkce().challenge, code_challenge_method: 'S256' }),
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('redirects a request that fails after the redirect check to the registered URI only, with iss', async () => {
    const client = await registerClient(h, { redirect_uris: [CLAUDE] });
    const res = await fetch(authorizeUrl(h, { response_type: 'token', client_id: client.client_id, redirect_uri: CLAUDE, state: 'st' }), {
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe(CLAUDE);
    expect(to.searchParams.get('error')).toBe('unsupported_response_type');
    expect(to.searchParams.get('iss')).toBe(h.urls.issuer);
    expect(to.searchParams.get('state')).toBe('st');
  });
});

describe('after all of the above', () => {
  it('still answers /health', async () => {
    await expectHealthy(h.urls.issuer);
  });
});
