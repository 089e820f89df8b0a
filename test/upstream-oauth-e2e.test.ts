/**
 * Remote servers with their own OAuth (servers.NAME.oauth), end to end in `serve`'s process: a
 * real OAuth-protected MCP server (oidc-provider in front of an MCP SDK server,
 * test/upstream-oauth-server/), the gateway with the GitHub stand-in for its own login, and the
 * MCP SDK's client going through one ordinary OAuth flow at the gateway, which sends the
 * browser on to the upstream's consent and back.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { approveConsent, TestOAuthProvider } from './helpers/sdk-oauth-provider.js';
import { startProtectedUpstream, type ProtectedUpstream } from './upstream-oauth-server/protected-mcp-upstream.js';
import { mcpInitialize } from './helpers/oauth-flow.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';
/** Upstream access tokens live this long: the refresh test waits for one to run out. */
const UPSTREAM_TOKEN_TTL_MS = 4_000;
const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789';

interface Connected {
  client: Client;
  provider: TestOAuthProvider;
  /** The gateway's access token of this client. */
  token: string;
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as Array<{ type: string; text: string }>)[0]!.text;
}

describe('a remote MCP server with its own OAuth behind the gateway', () => {
  let upstream: ProtectedUpstream;
  let h: GatewayHarness;
  const endpoint = (): URL => new URL(h.urls.resourceFor('remote'));
  const connected: Connected[] = [];

  /** The SDK client's whole flow at the gateway as `login` (GitHub) who is `upstreamUser` at the remote server. */
  async function connect(login: string, upstreamUser: string): Promise<Connected> {
    h.github.setCurrentUser(login);
    upstream.setCurrentUser(upstreamUser);
    const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
    const first = new Client({ name: `remote-oauth-${login}`, version: '1.0.0' });
    await expect(first.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    const transport = new StreamableHTTPClientTransport(endpoint(), { authProvider: provider });
    await transport.finishAuth(provider.code());
    const client = new Client({ name: `remote-oauth-${login}`, version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }));
    const session = { client, provider, token: provider.tokens()!.access_token };
    connected.push(session);
    return session;
  }

  beforeAll(async () => {
    upstream = await startProtectedUpstream({ users: ['alice-up', 'mallory-up'], accessTokenTtlMs: UPSTREAM_TOKEN_TTL_MS });
    h = await startGatewayHarness(
      { allowedUsers: ['alice', 'mallory'], servers: { remote: { url: upstream.mcpUrl, oauth: true } } },
      { adminToken: ADMIN_TOKEN },
    );
  }, 30_000);

  afterAll(async () => {
    for (const { client } of connected) await client.close().catch(() => {});
    await h?.close();
    await upstream?.close();
  });

  it("takes the SDK client through one flow: the gateway's login and consent, the upstream's consent, then the upstream's tools", async () => {
    const alice = await connect('alice', 'alice-up');
    // The browser went gateway -> GitHub -> gateway consent -> the upstream's authorize -> the gateway's callback -> the client.
    const hops = alice.provider.lastLogin?.hops ?? [];
    expect(hops.some((hop) => hop.startsWith(`${upstream.issuer}/auth`))).toBe(true);
    expect(hops.some((hop) => hop.startsWith(`${h.urls.issuer}/upstream/callback`))).toBe(true);
    expect(alice.provider.lastLogin?.redirectedTo?.searchParams.get('iss')).toBe(h.urls.issuer);
    const tools = await alice.client.listTools();
    expect(tools.tools.map((tool) => tool.name).sort()).toEqual(['echo', 'whoami']);
    expect(textOf(await alice.client.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-up');
    // The gateway registered itself at the upstream (dynamic registration: CIMD needs an https client id) with PKCE and the resource.
    const exchange = upstream.tokenRequests.find((request) => request.grantType === 'authorization_code');
    expect(exchange).toMatchObject({ resource: upstream.mcpUrl, error: undefined });
  }, 60_000);

  it("keeps each user's grant apart: mallory goes through her own upstream consent and never gets alice's", async () => {
    const mallory = await connect('mallory', 'mallory-up');
    expect(textOf(await mallory.client.callTool({ name: 'whoami', arguments: {} }))).toBe('mallory-up');
    expect(textOf(await connected[0]!.client.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-up');
    expect(upstream.tokenRequests.filter((request) => request.grantType === 'authorization_code')).toHaveLength(2);
    // The upstream saw only its own tokens: never a gateway token, and each request under the user its session belongs to.
    const gatewayTokens = new Set(connected.map((c) => c.token));
    for (const request of upstream.mcpRequests) {
      const bearer = request.authorization?.replace(/^Bearer /, '');
      expect(bearer === undefined || !gatewayTokens.has(bearer)).toBe(true);
      expect([undefined, ...gatewayTokens].some((t) => t !== undefined && request.authorization?.includes(t))).toBe(false);
    }
    const issuedTo = new Map(upstream.issuedAccessTokens.map((t) => [t.jti, t.user]));
    expect(issuedTo.size).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it("never lets a client choose the upstream token: a forged X-Upstream-Authorization is replaced by the user's own", async () => {
    const alice = connected[0]!;
    const before = upstream.mcpRequests.length;
    const res = await mcpInitialize(endpoint().href, alice.token, {
      'x-upstream-authorization': 'Bearer forged-by-the-client',
      'mcp-protocol-version': '2025-06-18',
    });
    expect(res.status).toBe(200);
    await res.text();
    const seen = upstream.mcpRequests.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    for (const request of seen) {
      expect(request.authorization).not.toContain('forged');
      expect(request.user).toBe('alice-up');
    }
    // Nor is the upstream's token ever sent back to the client.
    const issued = upstream.issuedAccessTokens.map((t) => t.jti);
    expect(issued.length).toBeGreaterThan(0);
    for (const [name, value] of res.headers) expect(`${name}: ${value}`).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
  });

  it('refreshes an expired upstream token once under 20 concurrent calls', async () => {
    const alice = connected[0]!;
    await new Promise((resolve) => setTimeout(resolve, UPSTREAM_TOKEN_TTL_MS + 500));
    const before = upstream.tokenRequestCount('refresh_token');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => alice.client.callTool({ name: 'echo', arguments: { text: `call ${i}` } })));
    expect(answers.map(textOf)).toEqual(Array.from({ length: 20 }, (_, i) => `call ${i}`));
    expect(upstream.tokenRequestCount('refresh_token') - before).toBe(1);
    expect(upstream.tokenRequests.filter((request) => request.grantType === 'refresh_token').every((request) => request.error === undefined)).toBe(true);
  }, 60_000);

  it('sends the user through the upstream consent again once the upstream grant is revoked', async () => {
    const alice = connected[0]!;
    expect(await upstream.revokeGrants('alice-up')).toBeGreaterThan(0);
    upstream.expireAccessTokens('alice-up');
    // The next call meets the upstream's 401: the client gets the gateway's challenge, not the upstream's.
    const refused = await mcpInitialize(endpoint().href, alice.token, { 'mcp-protocol-version': '2025-06-18' });
    expect(refused.status).toBe(401);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`resource_metadata="${h.urls.protectedResourceMetadataFor('remote')}"`);
    expect(challenge).not.toContain(upstream.resourceMetadataUrl);
    // The refresh of the gateway's own token is refused too, so the client authorizes anew, and that includes the upstream trip.
    await expect
      .poll(
        async () =>
          (
            await fetch(endpoint(), {
              method: 'POST',
              headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
              body: '{}',
            })
          ).status,
        { timeout: 10_000 },
      )
      .toBe(401);
    const again = await connect('alice', 'alice-up');
    expect(textOf(await again.client.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-up');
    expect(upstream.tokenRequests.filter((request) => request.grantType === 'authorization_code')).toHaveLength(3);
  }, 60_000);

  it("lists the connections without a token, and revokes one user's at the upstream (admin API, `connections`)", async () => {
    const admin = (path: string, init: RequestInit = {}) =>
      fetch(`${h.urls.issuer}/admin${path}`, {
        ...init,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
      });
    const listed = (await (await admin('/connections')).json()) as {
      connections: Array<{ user: string; logins: string[]; server: string; refreshable: boolean }>;
    };
    expect(listed.connections.map((c) => `${c.logins.join(',')} ${c.server} ${c.refreshable}`).sort()).toEqual(['alice remote true', 'mallory remote true']);
    const text = JSON.stringify(listed);
    for (const token of upstream.issuedAccessTokens) expect(text).not.toContain(token.jti);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    const byLogin = (await (await admin('/connections?user=mallory')).json()) as { connections: unknown[] };
    expect(byLogin.connections).toHaveLength(1);
    // Hostile filters are 400, never 500.
    expect((await admin('/connections?server=../../etc')).status).toBe(400);
    expect((await admin('/connections?bogus=1')).status).toBe(400);
    expect((await admin('/connections/revoke', { method: 'POST', body: '{}' })).status).toBe(400);
    expect(
      (await admin('/connections/revoke', { method: 'POST', body: 'user=mallory', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status,
    ).toBe(400);
    const mallory = connected[1]!;
    const revoked = (await (await admin('/connections/revoke', { method: 'POST', body: JSON.stringify({ user: 'mallory' }) })).json()) as {
      revoked: Array<{ server: string; upstream: string }>;
    };
    expect(revoked.revoked).toEqual([expect.objectContaining({ server: 'remote', upstream: 'revoked' })]);
    expect(((await (await admin('/connections?user=mallory')).json()) as { connections: unknown[] }).connections).toEqual([]);
    // Her next request: the gateway's challenge, so her client authorizes again (and goes through the upstream consent).
    const next = await fetch(endpoint(), {
      method: 'POST',
      headers: { authorization: `Bearer ${mallory.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{}',
    });
    expect(next.status).toBe(401);
    expect(next.headers.get('www-authenticate')).toContain('invalid_token');
  }, 60_000);

  it('serves the client metadata document it would be known by at an upstream that reads them', async () => {
    const res = await fetch(`${h.urls.issuer}/.well-known/oauth-client/remote.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      client_id: `${new URL(h.urls.issuer).origin}/.well-known/oauth-client/remote.json`,
      redirect_uris: [`${h.urls.issuer}/upstream/callback`],
      token_endpoint_auth_method: 'none',
    });
    expect((await fetch(`${h.urls.issuer}/.well-known/oauth-client/other.json`)).status).toBe(404);
    expect((await fetch(`${h.urls.issuer}/.well-known/oauth-client/..%2F..%2Fetc.json`)).status).toBe(404);
  });

  it('refuses a callback with a state it does not hold, a replayed one, and one from another browser', async () => {
    const unknown = await fetch(`${h.urls.issuer}/upstream/callback?state=forged&code=x`);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).not.toContain('forged');
    expect((await fetch(`${h.urls.issuer}/upstream/callback`)).status).toBe(400);
    expect((await fetch(`${h.urls.issuer}/upstream/callback?state=${'a'.repeat(10_000)}`)).status).toBe(400);
    expect((await fetch(`${h.urls.issuer}/upstream/callback?state=a&state=b`)).status).toBe(400);
    const injected = await fetch(`${h.urls.issuer}/upstream/callback?state=%3Cscript%3Ealert(1)%3C%2Fscript%3E`);
    expect(injected.status).toBe(400);
    expect(await injected.text()).not.toContain('<script>alert');

    // A real trip, its callback opened in another browser (no login cookie): refused, nothing kept.
    // Alice has no upstream grant now, so her next authorization goes on to the upstream.
    const reset = await fetch(`${h.urls.issuer}/admin/connections/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice' }),
    });
    expect(reset.status).toBe(200);
    h.github.setCurrentUser('alice');
    upstream.setCurrentUser('alice-up');
    let callback: URL | undefined;
    const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => {
      const stopAt = `${h.urls.issuer}/upstream/callback`;
      const consent = await approveConsent(browser, await browser.open(url.href, { stopAt }), { stopAt });
      callback = consent.redirectedTo;
      return consent;
    });
    const client = new Client({ name: 'other-browser', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(callback?.pathname).toBe('/upstream/callback');
    const exchanges = upstream.tokenRequestCount('authorization_code');
    const elsewhere = await fetch(callback!, { redirect: 'manual' });
    expect(elsewhere.status).toBe(403);
    // Refused before the code is exchanged: nothing was asked of the upstream, nothing kept.
    expect(upstream.tokenRequestCount('authorization_code')).toBe(exchanges);
    // Single use: the same callback again (even from the right browser) knows no such state.
    expect((await fetch(callback!, { redirect: 'manual' })).status).toBe(400);
  }, 60_000);

  it('refuses an upstream answer whose iss is another issuer (RFC 9207 mix-up)', async () => {
    h.github.setCurrentUser('alice');
    upstream.setCurrentUser('alice-up');
    let callback: URL | undefined;
    const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => {
      const stopAt = `${h.urls.issuer}/upstream/callback`;
      const trip = await approveConsent(browser, await browser.open(url.href, { stopAt }), { stopAt });
      callback = trip.redirectedTo;
      if (callback === undefined) return trip;
      const forged = new URL(callback);
      forged.searchParams.set('iss', 'https://evil.example');
      return browser.open(forged.href);
    });
    const client = new Client({ name: 'mixup', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    const redirected = provider.lastLogin?.redirectedTo;
    expect(redirected?.searchParams.get('error')).toBe('access_denied');
    expect(redirected?.searchParams.get('code')).toBeNull();
  }, 60_000);
});
