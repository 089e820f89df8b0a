import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64url } from '../runtime/auth/crypto-helpers.js';
import { ECHO_FIXTURE, startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { expectSafePage } from './helpers/hostile.js';
import { authorizeUrl, newPkce, registerClient } from './helpers/oauth-flow.js';
import { TestBrowser, type BrowserResult } from './helpers/test-browser.js';

/**
 * Remembered consent covers exactly what the user saw (DESIGN.md, issue 9): the client as it was,
 * the redirect URI, the server (resource) and a scope set. The attacks: a client registers two
 * redirect URIs (one looking like Claude's) and, after one approval, has a code delivered silently
 * to the other; the same with another server, more scopes, or after rewriting its metadata with
 * RFC 7592.
 */
const ADMIN_TOKEN = 'consent-suite-admin-token-0123456789abcdefghijklmnop';
const CLAUDE = 'https://claude.ai/api/mcp/auth_callback';
const LOOKALIKE = 'https://claude.ai.attacker.example/api/mcp/auth_callback';
const CURSOR = 'cursor://anysphere.cursor-mcp/oauth/callback';

let h: GatewayHarness;
let scoped: string;
let plain: string;

beforeAll(async () => {
  h = await startGatewayHarness(
    {
      clients: { registrationsPer10Min: 10_000 },
      servers: {
        echo: { command: process.execPath, args: [ECHO_FIXTURE], scopes: ['tools:read', 'tools:call'] },
        other: { command: process.execPath, args: [ECHO_FIXTURE] },
      },
    },
    { adminToken: ADMIN_TOKEN },
  );
  scoped = h.urls.resourceFor('echo');
  plain = h.urls.resourceFor('other');
});
afterAll(async () => {
  await h?.close();
});

interface Attempt {
  browser: TestBrowser;
  result: BrowserResult;
}

/** One /authorize in a fresh browser, through the GitHub stand-in; stops at anything that is not the gateway (`https://`, or the native scheme). */
async function attempt(clientId: string, params: Record<string, string>, stopAt = 'https://'): Promise<Attempt> {
  const browser = new TestBrowser(stopAt);
  const result = await browser.open(
    authorizeUrl(h, {
      response_type: 'code',
      client_id: clientId,
      code_challenge: newPkce().challenge,
      code_challenge_method: 'S256',
      state: 'st',
      resource: plain,
      ...params,
    }),
  );
  return { browser, result };
}

function consentPage(a: Attempt): string | undefined {
  const page = a.result.page;
  return page && page.status === 200 && page.body.includes('name="decision" value="approve"') ? page.body : undefined;
}

async function approve(a: Attempt): Promise<URL> {
  expect(consentPage(a), 'a consent page').toBeDefined();
  const answered = await a.browser.submitForm(a.result.page!, { decision: 'approve' });
  expect(answered.redirectedTo?.searchParams.get('code'), 'a code after approving').toBeTruthy();
  return answered.redirectedTo!;
}

/** Approves once and checks the approval is remembered for exactly the same request. */
async function approveAndCheckRemembered(clientId: string, params: Record<string, string>): Promise<void> {
  await approve(await attempt(clientId, params));
  const again = await attempt(clientId, params);
  expect(consentPage(again), 'the same request is remembered').toBeUndefined();
  expect(again.result.redirectedTo?.searchParams.get('code')).toBeTruthy();
}

function expectAskedAgain(a: Attempt, label: string): void {
  expect(a.result.redirectedTo, `${label}: redirected to ${a.result.redirectedTo?.href ?? ''} without asking`).toBeUndefined();
  expect(consentPage(a), `${label}: shows the consent page`).toBeDefined();
}

/** The store keys of a client's remembered consents (consents.ts keeps them under one prefix per client). */
function consentKeysOf(clientId: string): Promise<string[]> {
  return h.store.keys(`consent-granted:${sha256Base64url(clientId)}:`);
}

async function registerManaged(
  metadata: Record<string, unknown>,
): Promise<{ clientId: string; uri: string; token: string; metadata: Record<string, unknown> }> {
  const body = { client_name: 'Claude', token_endpoint_auth_method: 'none', ...metadata };
  const client = await registerClient(h, body);
  return { clientId: client.client_id, uri: String(client['registration_client_uri']), token: String(client['registration_access_token']), metadata: body };
}

describe('remembered consent covers exactly what the user saw', () => {
  it('a code is never delivered silently to a second redirect URI the user did not approve', async () => {
    const { client_id } = await registerClient(h, { client_name: 'Claude', redirect_uris: [CLAUDE, LOOKALIKE] });
    await approveAndCheckRemembered(client_id, { redirect_uri: CLAUDE });
    const second = await attempt(client_id, { redirect_uri: LOOKALIKE });
    expectAskedAgain(second, 'the other redirect URI');
    expect(second.result.page!.body).toContain('claude.ai.attacker.example');
  });

  it('a consent for server A does not cover server B', async () => {
    const { client_id } = await registerClient(h, { redirect_uris: [CLAUDE] });
    await approveAndCheckRemembered(client_id, { redirect_uri: CLAUDE, resource: plain });
    expectAskedAgain(await attempt(client_id, { redirect_uri: CLAUDE, resource: scoped, scope: 'tools:read' }), 'another server');
  });

  it('a consent for some scopes does not cover more scopes, but covers fewer', async () => {
    const { client_id } = await registerClient(h, { redirect_uris: [CLAUDE] });
    await approveAndCheckRemembered(client_id, { redirect_uri: CLAUDE, resource: scoped, scope: 'tools:read' });
    const wider = await attempt(client_id, { redirect_uri: CLAUDE, resource: scoped, scope: 'tools:read tools:call' });
    expectAskedAgain(wider, 'more scopes');
    expect(wider.result.page!.body).toContain('tools:read tools:call');
    // Asking for no scope means the server's whole set (server-scopes.ts): wider than tools:read too.
    expectAskedAgain(await attempt(client_id, { redirect_uri: CLAUDE, resource: scoped }), 'no scope, i.e. all of them');
    await approve(wider);
    for (const scope of ['tools:call', 'tools:call tools:read', 'tools:read']) {
      const narrower = await attempt(client_id, { redirect_uri: CLAUDE, resource: scoped, scope });
      expect(narrower.result.redirectedTo?.searchParams.get('code'), `${scope} is within an approved set`).toBeTruthy();
    }
  });

  it('a consent given to one client does not cover another client with the same name and redirect URI', async () => {
    const first = await registerClient(h, { client_name: 'Claude', redirect_uris: [CLAUDE] });
    await approveAndCheckRemembered(first.client_id, { redirect_uri: CLAUDE });
    const twin = await registerClient(h, { client_name: 'Claude', redirect_uris: [CLAUDE] });
    expectAskedAgain(await attempt(twin.client_id, { redirect_uri: CLAUDE }), 'a twin client');
  });
});

describe('RFC 7592 management and removal forget consents', () => {
  async function update(client: { clientId: string; uri: string; token: string }, metadata: Record<string, unknown>): Promise<Response> {
    return fetch(client.uri, {
      method: 'PUT',
      headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client.clientId, ...metadata }),
    });
  }

  it("an RFC 7592 update forgets the client's consents", async () => {
    const client = await registerManaged({ redirect_uris: [CLAUDE] });
    await approveAndCheckRemembered(client.clientId, { redirect_uri: CLAUDE });
    expect(await consentKeysOf(client.clientId)).toHaveLength(1);
    // Even an update that changes nothing visible: the user approved the client as it was.
    const res = await update(client, client.metadata);
    expect(res.status).toBe(200);
    expect(await consentKeysOf(client.clientId)).toEqual([]);
    expectAskedAgain(await attempt(client.clientId, { redirect_uri: CLAUDE }), 'after an update');
  });

  it('an RFC 7592 update that adds a lookalike redirect URI gets no silent code there, nor at the approved one', async () => {
    const client = await registerManaged({ redirect_uris: [CLAUDE] });
    await approveAndCheckRemembered(client.clientId, { redirect_uri: CLAUDE });
    expect((await update(client, { ...client.metadata, client_name: 'Claude (updated)', redirect_uris: [CLAUDE, LOOKALIKE] })).status).toBe(200);
    expectAskedAgain(await attempt(client.clientId, { redirect_uri: LOOKALIKE }), 'the added redirect URI');
    expectAskedAgain(await attempt(client.clientId, { redirect_uri: CLAUDE }), 'the approved redirect URI of the renamed client');
  });

  it('an approval of a consent page shown before an RFC 7592 update is not remembered', async () => {
    const client = await registerManaged({ redirect_uris: [CLAUDE] });
    const shown = await attempt(client.clientId, { redirect_uri: CLAUDE });
    expect(consentPage(shown)).toBeDefined();
    expect((await update(client, { ...client.metadata, client_name: 'Something else' })).status).toBe(200);
    await approve(shown); // the user approved what the page showed; that is not the client any more
    expectAskedAgain(await attempt(client.clientId, { redirect_uri: CLAUDE }), 'after approving a stale page');
  });

  it("an RFC 7592 deletion forgets the client's consents", async () => {
    const client = await registerManaged({ redirect_uris: [CLAUDE] });
    await approveAndCheckRemembered(client.clientId, { redirect_uri: CLAUDE, resource: plain });
    await approveAndCheckRemembered(client.clientId, { redirect_uri: CLAUDE, resource: scoped, scope: 'tools:read' });
    expect(await consentKeysOf(client.clientId)).toHaveLength(2);
    const res = await fetch(client.uri, { method: 'DELETE', headers: { authorization: `Bearer ${client.token}` } });
    expect(res.status).toBe(204);
    expect(await consentKeysOf(client.clientId)).toEqual([]);
  });

  it("an operator's removal of a client forgets its consents", async () => {
    const client = await registerManaged({ redirect_uris: [CLAUDE] });
    await approveAndCheckRemembered(client.clientId, { redirect_uri: CLAUDE });
    const res = await fetch(`${h.urls.issuer}/admin/clients/${encodeURIComponent(client.clientId)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(await consentKeysOf(client.clientId)).toEqual([]);
  });
});

describe('the consent page names where the code goes and for which server', () => {
  it("names the redirect URI's host and the server, not only the application's chosen name", async () => {
    const { client_id } = await registerClient(h, { client_name: 'Claude', redirect_uris: [LOOKALIKE] });
    const a = await attempt(client_id, { redirect_uri: LOOKALIKE, resource: scoped, scope: 'tools:read' });
    const body = consentPage(a)!;
    expect(body).toMatch(/<dt>Returns to<\/dt><dd><strong>claude\.ai\.attacker\.example<\/strong>/);
    expect(body).toMatch(/<dt>Server<\/dt><dd><strong>echo<\/strong>/);
    expect(body).toContain(scoped);
    expect(body).toContain('tools:read');
    expectSafePage('consent page', body, a.result.page!.headers.get('content-security-policy'));
  });

  it("names a native app's redirect by its scheme, not by the host part the app chose", async () => {
    const { client_id } = await registerClient(h, { client_name: 'Cursor', redirect_uris: [CURSOR] });
    const body = consentPage(await attempt(client_id, { redirect_uri: CURSOR }, 'cursor://'))!;
    expect(body).toMatch(/<dt>Returns to<\/dt><dd><strong>cursor:\/\/<\/strong>/);
    expect(body).toMatch(/<dt>Server<\/dt><dd><strong>other<\/strong>/);
  });
});
