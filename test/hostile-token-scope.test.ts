import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO_FIXTURE, type GatewayHarness } from './helpers/gateway-harness.js';
import { startHostileHarness } from './helpers/hostile.js';
import { CLIENT_REDIRECT, loginAndConsent, newPkce, registerClient, tokenRequest } from './helpers/oauth-flow.js';

/**
 * RFC 6749 §5.1: the token response's `scope` is REQUIRED when it differs from what was asked.
 * The gateway grants fewer scopes than asked (mcp-remote asks for `openid email profile`, which no
 * MCP server here defines) or the whole set when none was asked; a client that is not told
 * believes it holds what it asked for. The empty set has no conformant spelling and is omitted
 * (runtime/auth/endpoints/token-endpoint.ts, statedScope).
 */
let h: GatewayHarness;
let scoped: string;
let plain: string;

beforeAll(async () => {
  h = await startHostileHarness({
    servers: {
      echo: { command: process.execPath, args: [ECHO_FIXTURE], scopes: ['tools:read', 'tools:call'] },
      other: { command: process.execPath, args: [ECHO_FIXTURE] },
    },
  });
  scoped = h.urls.resourceFor('echo');
  plain = h.urls.resourceFor('other');
});
afterAll(async () => {
  await h?.close();
});

async function tokensFor(
  resource: string,
  scope: string | undefined,
): Promise<{ code: Record<string, unknown>; refresh: Record<string, unknown>; clientId: string }> {
  const client = await registerClient(h);
  const pkce = newPkce();
  const result = await loginAndConsent(h, {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    resource,
    scope,
  });
  const code = result.redirectedTo?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${result.redirectedTo?.href ?? result.page?.body.slice(0, 300) ?? ''}`);
  const first = await tokenRequest(h, {
    grant_type: 'authorization_code',
    code,
    code_verifier: pkce.verifier,
    redirect_uri: CLIENT_REDIRECT,
    client_id: client.client_id,
  });
  expect(first.status, JSON.stringify(first.body)).toBe(200);
  const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: String(first.body['refresh_token']), client_id: client.client_id });
  expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  return { code: first.body, refresh: refreshed.body, clientId: client.client_id };
}

describe('the token response states the granted scope', () => {
  it("states the granted scope when mcp-remote's openid email profile were dropped", async () => {
    const { code, refresh } = await tokensFor(scoped, 'openid email profile tools:read');
    expect(code['scope']).toBe('tools:read');
    expect(refresh['scope']).toBe('tools:read');
  });

  it("states the server's whole scope set when the request named none", async () => {
    const { code, refresh } = await tokensFor(scoped, undefined);
    expect(code['scope']).toBe('tools:read tools:call');
    expect(refresh['scope']).toBe('tools:read tools:call');
  });

  it('states the original grant on a refresh that asks for other scopes, which are not honoured', async () => {
    const { code, clientId } = await tokensFor(scoped, 'tools:call');
    const refreshed = await tokenRequest(h, {
      grant_type: 'refresh_token',
      refresh_token: String(code['refresh_token']),
      client_id: clientId,
      scope: 'tools:read tools:call openid',
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body['scope']).toBe('tools:call');
  });

  it('never states an empty scope (not valid RFC 6749 §3.3 syntax) for a server without scopes', async () => {
    const { code, refresh } = await tokensFor(plain, 'openid email profile');
    expect(code).not.toHaveProperty('scope');
    expect(refresh).not.toHaveProperty('scope');
    expect(code['access_token']).toBeTruthy();
  });
});
