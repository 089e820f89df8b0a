/**
 * 2026-07-28 clients of a remote server that speaks only 2025 MCP and has its own OAuth
 * (servers.NAME.oauth): the gateway translates each stateless request onto a 2025 session it keeps
 * with the server on the user's behalf, and that session carries the user's own upstream token,
 * the newest the vault handed over (refreshed ones replace it). In `serve`'s process with the real
 * OAuth-protected upstream (test/upstream-oauth-server/, an MCP SDK v1 server: 2025 only).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { approveConsent, TestOAuthProvider } from './helpers/sdk-oauth-provider.js';
import { startProtectedUpstream, type ProtectedUpstream } from './upstream-oauth-server/protected-mcp-upstream.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';
const MODERN = '2026-07-28';
/** Upstream access tokens live this long: the refresh test waits for one to run out. */
const UPSTREAM_TOKEN_TTL_MS = 3_000;

describe('2026-07-28 requests to a 2025-only remote server with its own OAuth', () => {
  let upstream: ProtectedUpstream;
  let h: GatewayHarness;
  const tokens: Record<string, string> = {};
  const endpoint = (): URL => new URL(h.urls.resourceFor('remote'));

  /** The gateway's flow (with the upstream trip) as `login`, who is `upstreamUser` upstream: the gateway token. */
  async function authorize(login: string, upstreamUser: string): Promise<void> {
    h.github.setCurrentUser(login);
    upstream.setCurrentUser(upstreamUser);
    const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
    await expect(
      new Client({ name: 'modern', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider })),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    await new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }).finishAuth(provider.code());
    tokens[login] = provider.tokens()!.access_token;
  }

  let nextId = 1;
  /** A stateless 2026-07-28 tools/call: the status and the message answered. */
  async function call(
    login: string,
    name: string,
    args: Record<string, unknown> = {},
  ): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
    const res = await fetch(endpoint(), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens[login]}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': 'tools/call',
        'mcp-name': name,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: nextId++,
        method: 'tools/call',
        params: {
          name,
          arguments: args,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': { name: 'modern', version: '1' },
          },
        },
      }),
    });
    const text = await res.text();
    const data = (res.headers.get('content-type') ?? '').includes('text/event-stream')
      ? text
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .at(-1)
      : text;
    return { status: res.status, body: data ? JSON.parse(data) : {}, headers: res.headers };
  }

  const textOf = (body: Record<string, any>): string | undefined => body['result']?.content?.[0]?.text;

  beforeAll(async () => {
    upstream = await startProtectedUpstream({ users: ['alice-up', 'mallory-up'], accessTokenTtlMs: UPSTREAM_TOKEN_TTL_MS });
    h = await startGatewayHarness({ allowedUsers: ['alice', 'mallory'], servers: { remote: { url: upstream.mcpUrl, oauth: true } } });
    await authorize('alice', 'alice-up');
    await authorize('mallory', 'mallory-up');
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    await upstream?.close();
  });

  it("translates each user's calls onto a session that carries that user's own upstream token", async () => {
    const alice = await call('alice', 'whoami');
    expect(alice.status, JSON.stringify(alice.body)).toBe(200);
    expect(textOf(alice.body)).toBe('alice-up');
    expect(alice.headers.get('mcp-session-id')).toBeNull();
    const mallory = await call('mallory', 'whoami');
    expect(textOf(mallory.body)).toBe('mallory-up');
    // Several at once, both users: each answered as its own user.
    const both = await Promise.all(Array.from({ length: 10 }, (_, i) => call(i % 2 === 0 ? 'alice' : 'mallory', 'whoami')));
    expect(both.map((answer) => textOf(answer.body))).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'alice-up' : 'mallory-up')));
    // The upstream never saw a gateway token.
    for (const request of upstream.mcpRequests) {
      for (const token of Object.values(tokens)) expect(request.authorization ?? '').not.toContain(token);
    }
  }, 30_000);

  it('keeps working past the upstream token lifetime: the refreshed token replaces the one the session sent', async () => {
    const refreshes = upstream.tokenRequestCount('refresh_token');
    await new Promise((resolve) => setTimeout(resolve, UPSTREAM_TOKEN_TTL_MS + 500));
    const answer = await call('alice', 'echo', { text: 'later' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(textOf(answer.body)).toBe('later');
    expect(upstream.tokenRequestCount('refresh_token')).toBeGreaterThan(refreshes);
  }, 30_000);

  it("once the upstream ends the grant: the call fails saying so, then the gateway's 401 challenge, never another user's token", async () => {
    await upstream.revokeGrants('alice-up');
    upstream.expireAccessTokens('alice-up');
    const refused = await call('alice', 'whoami');
    expect(textOf(refused.body)).toBeUndefined();
    expect(JSON.stringify(refused.body)).toMatch(/refused your authorization/);
    await expect
      .poll(async () => {
        const next = await call('alice', 'whoami');
        return `${next.status} ${next.headers.get('www-authenticate') ?? ''}`;
      })
      .toMatch(new RegExp(`^401 .*resource_metadata="${h.urls.protectedResourceMetadataFor('remote').replace(/[.?]/g, '\\$&')}"`));
    // Mallory's calls go on, as mallory.
    expect(textOf((await call('mallory', 'whoami')).body)).toBe('mallory-up');
  }, 30_000);
});
