import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHarness } from './helpers/gateway-harness.js';
import { forgedTokens, genuineToken, type ForgedToken } from './helpers/forged-tokens.js';
import { expectHealthy, expectNo5xx, postForm, registerConfidential, startHostileHarness, type ConfidentialClient } from './helpers/hostile.js';
import { mcpInitialize } from './helpers/oauth-flow.js';
import { send } from './helpers/raw-http.js';

/**
 * Forged and bent access tokens (RFC 9068 / RFC 8725 / RFC 8707) at every place a token is
 * read: the MCP endpoint (built-in router), /verify (ForwardAuth), /introspect and /revoke.
 * Every forgery is a variation of a genuine token that works, so each refusal is about the
 * forgery and not about the harness.
 */
let h: GatewayHarness;
let echo: string;
let genuine: string;
let forged: ForgedToken[];
let attacker: ConfidentialClient;

beforeAll(async () => {
  h = await startHostileHarness();
  echo = h.urls.resourceFor('echo');
  attacker = await registerConfidential(h);
  const jti = randomUUID();
  genuine = await genuineToken(h, echo, { jti, client_id: 'victim-client' });
  // Forgeries carry the victim's jti and the attacker's client_id: accepted by /revoke, they would kill the victim's token.
  forged = await forgedTokens(h, echo, { jti, clientId: attacker.clientId });
});
afterAll(async () => {
  await h?.close();
});

function verify(authorization: string | undefined, uri = '/echo/mcp'): Promise<Response> {
  return fetch(`${h.urls.issuer}/verify`, {
    headers: { 'x-forwarded-uri': uri, 'x-forwarded-method': 'POST', ...(authorization === undefined ? {} : { authorization }) },
  });
}

/** Runs `probe` for every forgery and lists those whose answer was not the expected one, so one run shows them all. */
async function misjudged(probe: (f: ForgedToken) => Promise<{ status: number; ok: boolean }>): Promise<string[]> {
  const wrong: string[] = [];
  for (const f of forged) {
    const { status, ok } = await probe(f);
    expectNo5xx(status, f.name);
    if (!ok) wrong.push(`${f.name}: ${status}`);
  }
  return wrong;
}

describe('forged access tokens', () => {
  it('accepts the genuine token the forgeries are made from', async () => {
    expect((await verify(`Bearer ${genuine}`)).status).toBe(200);
    expect((await mcpInitialize(echo, genuine)).status).toBe(200);
  });

  it('refuses every forgery at the MCP endpoint with 401 invalid_token', async () => {
    const wrong = await misjudged(async ({ token }) => {
      const res = await mcpInitialize(echo, token);
      await res.arrayBuffer();
      return { status: res.status, ok: res.status === 401 && (res.headers.get('www-authenticate') ?? '').includes('error="invalid_token"') };
    });
    expect(wrong).toEqual([]);
  });

  it('refuses every forgery at /verify (ForwardAuth) with 401 and no identity headers', async () => {
    const wrong = await misjudged(async ({ token }) => {
      const res = await verify(`Bearer ${token}`);
      await res.arrayBuffer();
      return { status: res.status, ok: res.status === 401 && res.headers.get('x-user-sub') === null && res.headers.get('x-user-login') === null };
    });
    expect(wrong).toEqual([]);
  });

  it('introspects every forgery as inactive, even for the client it names', async () => {
    const wrong = await misjudged(async ({ token }) => {
      const res = await postForm(h.urls.introspectionEndpoint, { token }, { authorization: attacker.authorization });
      const body = (await res.json()) as Record<string, unknown>;
      return { status: res.status, ok: res.status === 200 && body['active'] === false && Object.keys(body).length === 1 };
    });
    expect(wrong).toEqual([]);
  });

  it('answers 200 to revoking a forgery and revokes nothing: the genuine token with the same jti still works', async () => {
    const wrong = await misjudged(async ({ token }) => {
      const res = await postForm(h.urls.revocationEndpoint, { token, token_type_hint: 'access_token' }, { authorization: attacker.authorization });
      await res.arrayBuffer();
      return { status: res.status, ok: res.status === 200 };
    });
    expect(wrong).toEqual([]);
    expect((await verify(`Bearer ${genuine}`)).status).toBe(200);
  });

  it('refuses a token for another server of this gateway, and a genuine token presented for the wrong path', async () => {
    const forOther = await genuineToken(h, h.urls.resourceFor('other'));
    expect((await mcpInitialize(echo, forOther)).status).toBe(401);
    expect((await verify(`Bearer ${forOther}`)).status).toBe(401);
    expect((await verify(`Bearer ${forOther}`, '/other/mcp')).status).toBe(200);
    expect((await verify(`Bearer ${genuine}`, '/other/mcp')).status).toBe(401);
  });
});

describe('oversized tokens', () => {
  it('refuses a 12 KB bearer token with 401 and a 20 KB one at the header limit with 431', async () => {
    const big = await send(h.urls.issuer, {
      method: 'POST',
      path: '/echo/mcp',
      headers: { authorization: `Bearer ${'a'.repeat(12_000)}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(big.status).toBe(401);
    const huge = await send(h.urls.issuer, {
      method: 'POST',
      path: '/echo/mcp',
      headers: { authorization: `Bearer ${'a'.repeat(20_000)}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(huge.status).toBe(431);
    const viaVerify = await send(h.urls.issuer, {
      path: '/verify',
      headers: { authorization: `Bearer ${genuine.repeat(30)}`, 'x-forwarded-uri': '/echo/mcp' },
    });
    expect(viaVerify.status).toBe(401);
  });

  it('treats a 5 KB token at /introspect and /revoke as unknown', async () => {
    const token = `${genuine}${'A'.repeat(5_000)}`;
    expect(await (await postForm(h.urls.introspectionEndpoint, { token }, { authorization: attacker.authorization })).json()).toEqual({ active: false });
    expect((await postForm(h.urls.revocationEndpoint, { token }, { authorization: attacker.authorization })).status).toBe(200);
  });
});

describe('after all of the above', () => {
  it('still answers /health', async () => {
    await expectHealthy(h.urls.issuer);
  });
});
