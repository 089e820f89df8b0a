import { setTimeout as sleep } from 'node:timers/promises';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestOAuthProvider } from './helpers/sdk-oauth-provider.js';
import { TestBrowser } from './helpers/test-browser.js';
import { type ProtectedUpstream, startProtectedUpstream } from './upstream-oauth-server/protected-mcp-upstream.js';

const REDIRECT_URI = 'http://127.0.0.1:53682/callback';

interface Connection {
  client: Client;
  transport: StreamableHTTPClientTransport;
  provider: TestOAuthProvider;
}

/** The MCP SDK client with its own OAuth support, as `user` at the browser (`browser`, or the provider's own). */
async function connectAs(upstream: ProtectedUpstream, user: string, browser?: TestBrowser, provider?: TestOAuthProvider): Promise<Connection> {
  upstream.setCurrentUser(user);
  const auth = provider ?? new TestOAuthProvider(REDIRECT_URI, (own, url) => (browser ?? own).open(url.href));
  const client = new Client({ name: 'protected-upstream-test', version: '1.0.0' });
  await expect(client.connect(new StreamableHTTPClientTransport(new URL(upstream.mcpUrl), { authProvider: auth }))).rejects.toBeInstanceOf(UnauthorizedError);
  const transport = new StreamableHTTPClientTransport(new URL(upstream.mcpUrl), { authProvider: auth });
  await transport.finishAuth(auth.code());
  await client.connect(transport);
  // The SDK opens its GET stream after connect() resolves; let its token be accepted first, or a test
  // that expires tokens sees two refreshes race (the stream's and the next call's).
  while (!upstream.mcpRequests.some((r) => r.method === 'GET' && r.sessionId === transport.sessionId && r.outcome === 'accepted')) await sleep(5);
  return { client, transport, provider: auth };
}

async function whoami({ client }: Connection): Promise<string | undefined> {
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  return (result.content as Array<{ text?: string }>)[0]?.text;
}

async function close({ client, transport }: Connection): Promise<void> {
  await transport.terminateSession().catch(() => undefined);
  await client.close();
}

async function metadataOf(upstream: ProtectedUpstream): Promise<Record<string, string>> {
  return (await (await fetch(`${upstream.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, string>;
}

async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('the protected upstream stand-in, driven by the MCP SDK client', () => {
  let upstream: ProtectedUpstream;
  beforeAll(async () => {
    upstream = await startProtectedUpstream({
      users: ['alice', 'bob', 'carol', 'dave'],
      clients: [{ client_id: 'gateway', client_secret: 'gateway-secret', redirect_uris: [REDIRECT_URI] }],
    });
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('publishes RFC 9728 and RFC 8414 metadata and challenges a request without a token', async () => {
    const prm = await (await fetch(upstream.resourceMetadataUrl)).json();
    expect(prm).toMatchObject({ resource: upstream.mcpUrl, authorization_servers: [upstream.issuer], scopes_supported: ['mcp:tools'] });
    expect(await (await fetch(new URL('/.well-known/oauth-protected-resource', upstream.mcpUrl))).json()).toEqual(prm);

    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const as = await (await fetch(`${upstream.issuer}${path}`)).json();
      expect(as).toMatchObject({
        issuer: upstream.issuer,
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
        registration_endpoint: expect.any(String),
        revocation_endpoint: expect.any(String),
        grant_types_supported: expect.arrayContaining(['authorization_code', 'refresh_token']),
      });
      expect(as).not.toHaveProperty('client_id_metadata_document_supported');
    }

    const res = await fetch(upstream.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer scope="mcp:tools", resource_metadata="${upstream.resourceMetadataUrl}"`);
    const forged = await fetch(upstream.mcpUrl, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-jwt', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", /);
  });

  it('takes the SDK through discovery, registration, PKCE authorization and token, then serves its tools', async () => {
    const connection = await connectAs(upstream, 'alice');
    const { provider } = connection;
    expect(provider.client?.client_id).toEqual(expect.any(String));
    expect(upstream.authorizationServerRequests.some((r) => r.method === 'POST' && r.url === '/reg')).toBe(true);

    const authorize = new URL(provider.lastLogin!.hops[0]!);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('resource')).toBe(upstream.mcpUrl);
    expect(provider.lastLogin?.redirectedTo?.searchParams.get('iss')).toBe(upstream.issuer);
    expect(upstream.tokenRequests.at(-1)).toMatchObject({ grantType: 'authorization_code', resource: upstream.mcpUrl, error: undefined });

    const accessToken = decodeJwt(provider.savedTokens!.access_token);
    expect(accessToken).toMatchObject({ iss: upstream.issuer, aud: upstream.mcpUrl, sub: 'alice', scope: 'mcp:tools' });
    expect(provider.savedTokens?.refresh_token).toEqual(expect.any(String));

    expect((await connection.client.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
    expect(await whoami(connection)).toBe('alice');
    expect((await connection.client.callTool({ name: 'echo', arguments: { text: 'upstream' } })).content).toEqual([{ type: 'text', text: 'upstream' }]);
    await close(connection);
  });

  it('answers whoami per user, and each session saw only its own user’s bearer token', async () => {
    // One browser for both: the person at it changes, its session cookie does not.
    const browser = new TestBrowser(REDIRECT_URI);
    const alice = await connectAs(upstream, 'alice', browser);
    const bob = await connectAs(upstream, 'bob', browser);
    expect(await whoami(alice)).toBe('alice');
    expect(await whoami(bob)).toBe('bob');

    for (const { transport, provider } of [alice, bob]) {
      const seen = upstream.mcpRequests.filter((r) => r.sessionId === transport.sessionId);
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen.map((r) => r.authorization))).toEqual(new Set([`Bearer ${provider.savedTokens!.access_token}`]));
    }
    for (const record of upstream.mcpRequests.filter((r) => r.outcome === 'accepted')) {
      expect(decodeJwt(record.authorization!.slice('Bearer '.length)).sub).toBe(record.user);
    }
    await Promise.all([close(alice), close(bob)]);
  });

  it('accepts a pre-registered confidential client, authenticating it at the token endpoint', async () => {
    const provider = new TestOAuthProvider(REDIRECT_URI, (browser, url) => browser.open(url.href), { token_endpoint_auth_method: 'client_secret_basic' });
    provider.client = { client_id: 'gateway', client_secret: 'gateway-secret' };
    const connection = await connectAs(upstream, 'bob', undefined, provider);
    expect(await whoami(connection)).toBe('bob');
    const exchange = upstream.authorizationServerRequests.filter((r) => r.method === 'POST' && r.url === '/token').at(-1);
    expect(exchange?.headers.authorization).toBe(`Basic ${Buffer.from('gateway:gateway-secret').toString('base64')}`);
    expect(upstream.tokenRequests.at(-1)).toMatchObject({ grantType: 'authorization_code', clientId: 'gateway', error: undefined });
    await close(connection);
  });

  it('refuses an authorization request without PKCE', async () => {
    const registered = (await (
      await fetch(`${upstream.issuer}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
      })
    ).json()) as { client_id: string };
    const authorize = new URL(`${upstream.issuer}/auth`);
    authorize.search = new URLSearchParams({
      client_id: registered.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'mcp:tools',
    }).toString();
    const result = await new TestBrowser(REDIRECT_URI).open(authorize.href);
    expect(result.redirectedTo?.searchParams.get('error')).toBe('invalid_request');
    expect(result.redirectedTo?.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('sends the browser back with access_denied when the upstream user declines', async () => {
    upstream.setCurrentUser(null);
    const provider = new TestOAuthProvider(REDIRECT_URI, (browser, url) => browser.open(url.href));
    const client = new Client({ name: 'protected-upstream-test', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(upstream.mcpUrl), { authProvider: provider }))).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(provider.lastLogin?.redirectedTo?.searchParams.get('error')).toBe('access_denied');
  });

  it('after expireAccessTokens the SDK refreshes once and goes on with a new bearer token', async () => {
    const connection = await connectAs(upstream, 'carol');
    const before = connection.provider.savedTokens!;
    const refreshes = upstream.tokenRequestCount('refresh_token');
    upstream.expireAccessTokens('carol');

    expect(await whoami(connection)).toBe('carol');
    expect(upstream.tokenRequestCount('refresh_token')).toBe(refreshes + 1);
    const after = connection.provider.savedTokens!;
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    const mine = upstream.mcpRequests.filter((r) => r.sessionId === connection.transport.sessionId);
    expect(mine.slice(-2).map((r) => [r.outcome, r.authorization])).toEqual([
      ['invalid_token', `Bearer ${before.access_token}`],
      ['accepted', `Bearer ${after.access_token}`],
    ]);
    await close(connection);
  });

  it('after revokeGrants the refresh fails with invalid_grant', async () => {
    const connection = await connectAs(upstream, 'dave');
    expect(await upstream.revokeGrants('dave')).toBe(1);
    upstream.expireAccessTokens('dave');

    await expect(whoami(connection)).rejects.toMatchObject({ errorCode: 'invalid_grant' });
    expect(upstream.tokenRequests.at(-1)).toMatchObject({ grantType: 'refresh_token', error: 'invalid_grant' });
    await connection.client.close();
  });

  it('revokes a refresh token at the RFC 7009 endpoint, and with it the grant', async () => {
    const connection = await connectAs(upstream, 'bob');
    const { revocation_endpoint, token_endpoint } = await metadataOf(upstream);
    const clientId = connection.provider.client!.client_id;
    const refreshToken = connection.provider.savedTokens!.refresh_token!;
    expect(await postForm(revocation_endpoint!, { token: refreshToken, token_type_hint: 'refresh_token', client_id: clientId })).toEqual({
      status: 200,
      body: {},
    });

    const refresh = await postForm(token_endpoint!, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
    expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    await close(connection);
  });
});

describe('the protected upstream with short-lived access tokens', () => {
  let upstream: ProtectedUpstream;
  beforeAll(async () => {
    upstream = await startProtectedUpstream({ users: ['alice'], accessTokenTtlMs: 2_000 });
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('an expired access token makes the SDK refresh, and the used refresh token is spent', async () => {
    const connection = await connectAs(upstream, 'alice');
    const before = connection.provider.savedTokens!;
    expect(before.expires_in).toBe(2);
    const refreshes = upstream.tokenRequestCount('refresh_token');
    await sleep(decodeJwt(before.access_token).exp! * 1000 - Date.now() + 100);

    expect(await whoami(connection)).toBe('alice');
    expect(upstream.tokenRequestCount('refresh_token')).toBe(refreshes + 1);
    expect(upstream.mcpRequests.filter((r) => r.sessionId === connection.transport.sessionId).map((r) => r.outcome)).toContain('invalid_token');

    // Rotation (OAuth 2.1 §4.3.1): the refresh token used is no longer good.
    const { token_endpoint } = await metadataOf(upstream);
    const replay = await postForm(token_endpoint!, {
      grant_type: 'refresh_token',
      refresh_token: before.refresh_token!,
      client_id: connection.provider.client!.client_id,
    });
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    await close(connection);
  });
});

describe('the protected upstream with Client ID Metadata Documents', () => {
  const CLIENT_ID = 'https://client.example/oauth/mcp-client.json';
  const document = {
    client_id: CLIENT_ID,
    client_name: 'CIMD test client',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  const fetched: string[] = [];
  let upstream: ProtectedUpstream;
  let other: ProtectedUpstream;
  beforeAll(async () => {
    upstream = await startProtectedUpstream({
      users: ['erin'],
      fetchClientMetadata: async (url) => {
        fetched.push(url.href);
        return url.href === CLIENT_ID ? Response.json(document) : new Response('not found', { status: 404 });
      },
    });
    other = await startProtectedUpstream({ users: ['erin'] });
  });
  afterAll(async () => {
    await Promise.all([upstream?.close(), other?.close()]);
  });

  it('lets a client whose client_id is its metadata URL in without registering', async () => {
    expect(await metadataOf(upstream)).toMatchObject({ client_id_metadata_document_supported: true });
    const provider = new TestOAuthProvider(REDIRECT_URI, (browser, url) => browser.open(url.href));
    provider.clientMetadataUrl = CLIENT_ID;
    const connection = await connectAs(upstream, 'erin', undefined, provider);

    expect(provider.client?.client_id).toBe(CLIENT_ID);
    expect(fetched).toContain(CLIENT_ID);
    expect(upstream.authorizationServerRequests.some((r) => r.url.startsWith('/reg'))).toBe(false);
    expect(await whoami(connection)).toBe('erin');
    await close(connection);
  });

  it('rejects a token whose aud is another MCP server', async () => {
    const connection = await connectAs(other, 'erin');
    const res = await fetch(upstream.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${connection.provider.savedTokens!.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", /);
    expect(upstream.mcpRequests.at(-1)).toMatchObject({ outcome: 'invalid_token', user: undefined });
    await close(connection);
  });
});
