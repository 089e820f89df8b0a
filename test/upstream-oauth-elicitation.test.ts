/**
 * Re-authorization at a remote server with its own OAuth (servers.NAME.oauth) by URL-mode
 * elicitation (MCP 2025-11-25): when the upstream refuses a user's grant for good, a session whose
 * client supports URL mode gets -32042 with the gateway's connect page for the server; the user
 * opens it, logs in at the gateway, goes through the upstream's consent, and the client's retry
 * in the same session works. Others keep getting the gateway's 401 challenge. In `serve`'s
 * process, with the real OAuth-protected upstream (test/upstream-oauth-server/) and the GitHub
 * stand-in for the gateway's own login.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type ClientCapabilities, ErrorCode, UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayUrls } from '../runtime/auth/gateway-urls.js';
import { createLocalLogin } from '../runtime/auth/upstream/local-login.js';
import { createOidcLogin } from '../runtime/auth/upstream/oidc-login.js';
import { createOidcUpstream } from '../runtime/auth/upstream/oidc-upstream.js';
import { freePort } from './helpers/free-port.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { startOidcProvider } from './helpers/oidc-provider.js';
import { approveConsent, TestOAuthProvider } from './helpers/sdk-oauth-provider.js';
import { TestBrowser } from './helpers/test-browser.js';
import { startProtectedUpstream, type ProtectedUpstream } from './upstream-oauth-server/protected-mcp-upstream.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';
const URL_MODE: ClientCapabilities = { elicitation: { url: {} } };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Connected {
  client: Client;
  token: string;
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as Array<{ type: string; text: string }>)[0]!.text;
}

describe('re-authorization at a remote server by URL-mode elicitation', () => {
  let upstream: ProtectedUpstream;
  let h: GatewayHarness;
  const endpoint = (): URL => new URL(h.urls.resourceFor('remote'));
  const connectPage = (): string => `${h.urls.issuer}/upstream/connect/remote`;
  const clients: Client[] = [];

  /** The SDK client's whole flow at the gateway as `login`, who is `upstreamUser` at the remote server. */
  async function connect(login: string, upstreamUser: string, capabilities: ClientCapabilities): Promise<Connected> {
    h.github.setCurrentUser(login);
    upstream.setCurrentUser(upstreamUser);
    const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
    const first = new Client({ name: `elicit-${login}`, version: '1.0.0' });
    await expect(first.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    const transport = new StreamableHTTPClientTransport(endpoint(), { authProvider: provider });
    await transport.finishAuth(provider.code());
    const client = new Client({ name: `elicit-${login}`, version: '1.0.0' }, { capabilities });
    await client.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }));
    clients.push(client);
    return { client, token: provider.tokens()!.access_token };
  }

  /** A raw 2025-11-25 session of `token` whose client declares `capabilities`: its session id. */
  async function rawSession(token: string, capabilities: ClientCapabilities, extra: Record<string, string> = {}): Promise<string> {
    const res = await post(
      token,
      undefined,
      { method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'raw', version: '1' } } },
      extra,
    );
    expect(res.status).toBe(200);
    await res.text();
    const id = res.headers.get('mcp-session-id');
    expect(id).toBeTruthy();
    await post(token, id!, { method: 'notifications/initialized' }, extra).then((r) => r.text());
    return id!;
  }

  let nextId = 1;
  function post(token: string, session: string | undefined, message: Record<string, unknown>, extra: Record<string, string> = {}): Promise<Response> {
    const notification = String(message['method']).startsWith('notifications/');
    return fetch(endpoint(), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        ...(session === undefined ? {} : { 'mcp-session-id': session }),
        ...extra,
      },
      body: JSON.stringify({ jsonrpc: '2.0', ...(notification ? {} : { id: nextId++ }), ...message }),
    });
  }

  /** The JSON-RPC message of a POST's answer, JSON or a one-event SSE stream. */
  async function messageOf(res: Response): Promise<Record<string, any>> {
    const text = await res.text();
    if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text);
    const data = text.split('\n').find((line) => line.startsWith('data: '));
    return JSON.parse(data!.slice(6));
  }

  /** The user's grant at the upstream ends there (revoked, tokens expired): the gateway does not know yet. */
  async function revokeAtUpstream(upstreamUser: string): Promise<void> {
    expect(await upstream.revokeGrants(upstreamUser)).toBeGreaterThan(0);
    upstream.expireAccessTokens(upstreamUser);
  }

  beforeAll(async () => {
    upstream = await startProtectedUpstream({ users: ['alice-up', 'mallory-up', 'eve-up'] });
    h = await startGatewayHarness(
      { allowedUsers: ['alice', 'mallory'], servers: { remote: { url: upstream.mcpUrl, oauth: true } } },
      {
        githubUsers: [
          { id: 1001, login: 'alice', name: 'Alice' },
          { id: 1002, login: 'mallory', name: 'Mallory' },
          { id: 1003, login: 'eve', name: 'Eve' },
        ],
      },
    );
  }, 30_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => {});
    await h?.close();
    await upstream?.close();
  });

  it('gives a client that supports URL mode -32042 with the connect page; once the user connects there, the same session works again', async () => {
    const alice = await connect('alice', 'alice-up', URL_MODE);
    expect(textOf(await alice.client.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-up');
    await revokeAtUpstream('alice-up');

    // The upstream refuses the token: the call fails with the link, the session stays.
    const refused = await alice.client.callTool({ name: 'whoami', arguments: {} }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(UrlElicitationRequiredError);
    expect((refused as UrlElicitationRequiredError).code).toBe(ErrorCode.UrlElicitationRequired);
    expect((refused as UrlElicitationRequiredError).message).toContain('remote');
    const [elicitation] = (refused as UrlElicitationRequiredError).elicitations;
    expect(elicitation).toMatchObject({ mode: 'url', url: connectPage(), message: expect.stringContaining('remote') });
    expect(elicitation!.elicitationId).toMatch(UUID);

    // The vault was told: its refresh is refused too (a moment later), so the grant is gone, and
    // calls are answered by the gateway without asking the upstream, each with a fresh elicitation id.
    await expect.poll(() => upstream.tokenRequests.at(-1)?.grantType).toBe('refresh_token');
    await expect
      .poll(async () => {
        const seen = upstream.mcpRequests.length;
        const again = await alice.client.callTool({ name: 'whoami', arguments: {} }).catch((err: unknown) => err);
        const [second] = (again as UrlElicitationRequiredError).elicitations;
        expect(second!.url).toBe(connectPage());
        expect(second!.elicitationId).not.toBe(elicitation!.elicitationId);
        return upstream.mcpRequests.length - seen;
      })
      .toBe(0);

    // The user opens the link: the gateway's login (GitHub), the upstream's consent, and back.
    h.github.setCurrentUser('alice');
    upstream.setCurrentUser('alice-up');
    const exchanges = upstream.tokenRequestCount('authorization_code');
    const browser = new TestBrowser('http://127.0.0.1:1/never');
    const opened = await browser.open(elicitation!.url);
    expect(opened.page?.status, opened.page?.body.slice(0, 300)).toBe(200);
    expect(opened.page?.body).toContain('<strong>remote</strong> is connected for alice');
    expect(opened.hops.some((hop) => hop.startsWith(h.github.url))).toBe(true);
    expect(opened.hops.some((hop) => hop.startsWith(`${upstream.issuer}/auth`))).toBe(true);
    expect(opened.hops.some((hop) => hop.startsWith(`${h.urls.issuer}/upstream/callback`))).toBe(true);
    expect(upstream.tokenRequestCount('authorization_code')).toBe(exchanges + 1);
    // Nothing of the upstream's tokens on the page.
    for (const token of upstream.issuedAccessTokens) expect(opened.page?.body).not.toContain(token.jti);

    // The retry, in the same session, with the same gateway token.
    expect(textOf(await alice.client.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-up');
  }, 60_000);

  it('keeps the 401 challenge for a client without URL mode (form-only elicitation does not count)', async () => {
    const mallory = await connect('mallory', 'mallory-up', {});
    const formOnly = await rawSession(mallory.token, { elicitation: {} });
    const urlMode = await rawSession(mallory.token, URL_MODE);
    await revokeAtUpstream('mallory-up');
    const refused = await post(mallory.token, formOnly, { method: 'tools/call', params: { name: 'whoami', arguments: {} } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain(`resource_metadata="${h.urls.protectedResourceMetadataFor('remote')}"`);
    await refused.text();
    // With the grant gone, still 401 for it, -32042 for the session that takes URL mode, a challenge for a new session.
    await expect.poll(async () => (await post(mallory.token, formOnly, { method: 'tools/list' })).status).toBe(401);
    const linked = await messageOf(await post(mallory.token, urlMode, { method: 'tools/list' }));
    expect(linked['error']).toMatchObject({ code: -32042, data: { elicitations: [{ mode: 'url', url: connectPage() }] } });
    const fresh = await post(mallory.token, undefined, {
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: URL_MODE, clientInfo: { name: 'raw', version: '1' } },
    });
    expect(fresh.status).toBe(401);
    await fresh.text();
    // A notification alone asks nothing of the user: the challenge.
    expect((await post(mallory.token, urlMode, { method: 'notifications/cancelled', params: { requestId: 1 } })).status).toBe(401);
    // Ending a session needs no upstream grant: it ends (and is then unknown, to mallory as to anyone).
    const ended = await fetch(endpoint(), { method: 'DELETE', headers: { authorization: `Bearer ${mallory.token}`, 'mcp-session-id': formOnly } });
    expect(ended.status).toBe(200);
    expect((await post(mallory.token, formOnly, { method: 'tools/list' })).status).toBe(404);
  }, 60_000);

  it("never lets a client choose the link: a forged X-Upstream-Connect is replaced by the gateway's own", async () => {
    const mallory = await connect('mallory', 'mallory-up', URL_MODE);
    const forged = { 'x-upstream-connect': 'https://evil.example/phish' };
    const session = await rawSession(mallory.token, URL_MODE, forged);
    await revokeAtUpstream('mallory-up');
    const answer = await messageOf(await post(mallory.token, session, { method: 'tools/list' }, forged));
    expect(answer['error']?.code).toBe(-32042);
    expect(JSON.stringify(answer)).not.toContain('evil.example');
    expect(answer['error'].data.elicitations[0].url).toBe(connectPage());
  }, 60_000);

  it("connects whoever logs in at the page, never the link's recipient as someone else; refuses users off the allowlist", async () => {
    // Mallory opens a link alice was given: it connects mallory's own upstream account, to mallory.
    h.github.setCurrentUser('mallory');
    upstream.setCurrentUser('mallory-up');
    const opened = await new TestBrowser('http://127.0.0.1:1/never').open(connectPage());
    expect(opened.page?.body).toContain('is connected for mallory');
    // Alice's grant is still alice's own.
    expect(textOf(await clients[0]!.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-up');
    // Eve may log in at GitHub but is not allowed here: refused before any upstream trip.
    h.github.setCurrentUser('eve');
    upstream.setCurrentUser('eve-up');
    const exchanges = upstream.authorizationServerRequests.length;
    const eve = await new TestBrowser('http://127.0.0.1:1/never').open(connectPage());
    expect(eve.page?.status).toBe(403);
    expect(eve.page?.body).toContain('eve is not allowed');
    expect(upstream.authorizationServerRequests.length).toBe(exchanges);
  }, 60_000);

  it('refuses unknown servers, hostile names, a login finished in another browser, and a callback in another browser', async () => {
    for (const path of ['nope', 'REMOTE', '%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'a'.repeat(200), '..%2F..%2Fadmin']) {
      const res = await fetch(`${h.urls.issuer}/upstream/connect/${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain('<script>alert');
    }
    // Forged page-login states at the provider's callback: the login page, never a 500 or the value echoed.
    for (const state of ['page.forged', `page.${'a'.repeat(5000)}`, 'page.%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'page.']) {
      const res = await fetch(`${h.urls.issuer}/callback?state=${state}&code=x`, { redirect: 'manual' });
      expect(res.status, state.slice(0, 40)).toBe(400);
      const body = await res.text();
      expect(body).toContain('expired');
      expect(body).not.toContain('<script>alert');
    }
    // The login's return from GitHub, opened in a browser without the login cookie.
    h.github.setCurrentUser('alice');
    upstream.setCurrentUser('alice-up');
    const started = await new TestBrowser(`${h.urls.issuer}/callback`).open(connectPage());
    expect(started.redirectedTo?.pathname).toBe('/callback');
    const stranger = await new TestBrowser('http://127.0.0.1:1/never').open(started.redirectedTo!.href);
    expect(stranger.page?.status).toBe(400);
    expect(stranger.page?.body).toContain('started in another browser');
    // The upstream's return, opened in another browser: refused before its code is exchanged.
    const browser = new TestBrowser(`${h.urls.issuer}/upstream/callback`);
    const trip = await browser.open(connectPage());
    expect(trip.redirectedTo?.pathname).toBe('/upstream/callback');
    const exchanges = upstream.tokenRequestCount('authorization_code');
    const elsewhere = await new TestBrowser('http://127.0.0.1:1/never').open(trip.redirectedTo!.href);
    expect(elsewhere.page?.status).toBe(403);
    expect(upstream.tokenRequestCount('authorization_code')).toBe(exchanges);
  }, 60_000);
});

/** The connect page through each kind of gateway login: GitHub with organization rules, OpenID Connect, the local one-time code. */
describe("the connect page with each of the gateway's logins", () => {
  let upstream: ProtectedUpstream;
  const remote = (url: string) => ({ remote: { url, oauth: true } });
  const connectPage = (h: GatewayHarness): string => `${h.urls.issuer}/upstream/connect/remote`;

  beforeAll(async () => {
    upstream = await startProtectedUpstream({ users: ['alice-up', 'mallory-up', 'carol-up'] });
  }, 30_000);
  afterAll(async () => {
    await upstream?.close();
  });

  it('GitHub with organization rules: a member connects, a non-member is refused (the allowlist needs the memberships)', async () => {
    const h = await startGatewayHarness({
      allowedUsers: [],
      provider: { type: 'github', clientId: 'test-client-id', orgs: ['acme'] },
      servers: remote(upstream.mcpUrl),
    });
    try {
      h.github.setCurrentUser('alice'); // in acme (the stand-in's default users)
      upstream.setCurrentUser('alice-up');
      const alice = await new TestBrowser('http://127.0.0.1:1/never').open(connectPage(h));
      expect(alice.page?.body, alice.page?.body.slice(0, 300)).toContain('is connected for alice');
      h.github.setCurrentUser('mallory'); // in no organization
      const mallory = await new TestBrowser('http://127.0.0.1:1/never').open(connectPage(h));
      expect(mallory.page?.status).toBe(403);
    } finally {
      await h.close();
    }
  }, 60_000);

  it('OpenID Connect: the provider login, then the upstream consent', async () => {
    const port = await freePort();
    const op = await startOidcProvider({
      clients: [{ client_id: 'gateway', client_secret: 'gateway-secret', redirect_uris: [`http://127.0.0.1:${port}/callback`] }],
      accounts: [{ sub: 'u-1', email: 'carol@example.com', email_verified: true }],
    });
    const h = await startGatewayHarness(
      { allowedUsers: [], provider: { type: 'oidc', issuer: op.issuer, clientId: 'gateway', emailDomains: ['example.com'] }, servers: remote(upstream.mcpUrl) },
      {
        port,
        upstream: async (config, store) => {
          const oidc = createOidcUpstream({ issuer: op.issuer, clientId: 'gateway', clientSecret: 'gateway-secret' });
          await oidc.discover();
          return createOidcLogin({ store, oidc, callbackUrl: `${new URL(config.publicUrl).origin}/callback` });
        },
      },
    );
    try {
      upstream.setCurrentUser('carol-up');
      const browser = new TestBrowser('http://127.0.0.1:1/never');
      const first = await browser.open(connectPage(h));
      const toProvider = first.hops.find((hop) => hop.startsWith(op.issuer));
      expect(toProvider).toBeDefined();
      const back = await op.login(toProvider!, 'u-1');
      const done = await browser.open(back.href);
      expect(done.page?.body, done.page?.body.slice(0, 300)).toContain('is connected for carol@example.com');
      // The login's return is single use.
      expect((await browser.open(back.href)).page?.status).toBe(400);
    } finally {
      await h.close();
      await op.close();
    }
  }, 60_000);

  it('the local one-time code: the form, a wrong code, the right one', async () => {
    const codes: string[] = [];
    const h = await startGatewayHarness(
      { allowedUsers: ['alice'], provider: { type: 'local', user: 'alice' }, servers: remote(upstream.mcpUrl) },
      {
        upstream: async (config, store) =>
          createLocalLogin({ store, user: 'alice', loginUrl: gatewayUrls(config).localLogin, announce: ({ code }) => void codes.push(code) }),
      },
    );
    try {
      upstream.setCurrentUser('alice-up');
      const browser = new TestBrowser('http://127.0.0.1:1/never');
      const form = await browser.open(connectPage(h));
      expect(form.page?.body).toContain('one-time code');
      expect(codes).toHaveLength(1);
      const wrong = await browser.submitForm(form.page!, { code: 'XXXX-XXXX' });
      expect(wrong.page?.status).toBe(401);
      // A forged page login: the form is not shown, a guess is not checked.
      expect((await fetch(`${h.urls.issuer}/login/local?txn=page.forged`)).status).toBe(400);
      const guess = await fetch(`${h.urls.issuer}/login/local`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ txn: 'page.forged', code: codes[0]! }),
      });
      expect(guess.status).toBe(400);
      const done = await browser.submitForm(wrong.page!, { code: codes[0]! });
      expect(done.page?.body, done.page?.body.slice(0, 300)).toContain('is connected for alice');
      // Used once: the same form again is an expired login.
      expect((await browser.submitForm(wrong.page!, { code: codes[0]! })).page?.status).toBe(400);
    } finally {
      await h.close();
    }
  }, 60_000);
});
