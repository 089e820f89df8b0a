import {
  Client as ModernClient,
  type McpSubscription,
  StreamableHTTPClientTransport as ModernTransport,
  UnauthorizedError as ModernUnauthorizedError,
} from '@modelcontextprotocol/client';
import { UnauthorizedError as LegacyUnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { decodeJwt } from 'jose';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { startLocalGateway } from './helpers/local-gateway.js';
import { CLIENT_REDIRECT } from './helpers/oauth-flow.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';
import { TestOAuthProviderV2 } from './helpers/sdk-v2-oauth-provider.js';
import type { BrowserResult, TestBrowser } from './helpers/test-browser.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/round-trip-mcp-server.mjs', import.meta.url));
const SERVER = 'both';
const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
const ALICE = { id: 1001, login: 'alice' };
const BOB = { id: 1002, login: 'bob' };

/** A request as the client put it on the wire: its headers say which era it belongs to. */
interface Sent {
  method: string;
  url: string;
  headers: Headers;
  body: Record<string, any> | undefined;
}

/** The fetch each transport is given: it records every request (MCP, discovery, registration, token) and sends it on. */
function recordingFetch(log: Sent[]): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return (url, init) => {
    let body: Record<string, any> | undefined;
    try {
      body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    } catch {
      body = undefined; // a form body (the token request)
    }
    log.push({ method: init?.method ?? 'GET', url: String(url), headers: new Headers(init?.headers), body });
    return fetch(url, init);
  };
}

/** The text of a tool result's first block (v1 types its results as a union with the 2024 `toolResult` shape). */
const textOf = (result: unknown): string => (result as { content: Array<{ text: string }> }).content[0]!.text;

async function eventually(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Both generations of the MCP SDK client on one stdio server's endpoint at the same time, each
 * through the whole OAuth flow a person goes through (discovery, dynamic registration, GitHub
 * login, consent, token): the v2 client pinned to 2026-07-28 (stateless requests, input_required,
 * subscriptions/listen) as alice, the v1 client in a 2025-11-25 session as bob. Both log in at
 * once in beforeAll; the tests then share the two clients, in order.
 */
describe('the MCP SDK v2 client (2026-07-28) and the v1 client (2025-11-25) on one endpoint at once', () => {
  let h: GatewayHarness;
  let endpoint: URL;
  const modernLog: Sent[] = [];
  const legacyLog: Sent[] = [];
  let modernProvider: TestOAuthProviderV2;
  let legacyProvider: TestOAuthProvider;
  let modern: ModernClient;
  let legacy: LegacyClient;
  let legacyTransport: LegacyTransport;
  /** What each client's handlers were asked, and the list changes each was told of. */
  const asked = { modern: [] as string[], legacy: [] as string[] };
  const listChanges = { modern: [] as Array<Record<string, any>>, legacy: [] as Array<Record<string, any>> };
  let subscription: McpSubscription | undefined;

  /**
   * The person at the browser: logs in to "GitHub" as `login` and approves consent. The stand-in
   * has one logged-in browser user, so the GitHub legs of the two logins take turns; everything
   * else of the two flows (discovery, registration, the token request, the clients' retries) runs
   * at once.
   */
  let githubTurn: Promise<unknown> = Promise.resolve();
  const consented: string[] = [];
  const person =
    (login: string) =>
    (browser: TestBrowser, url: URL): Promise<BrowserResult> => {
      const turn = githubTurn.then(async () => {
        h.github.setCurrentUser(login);
        const shown = await browser.open(url.href);
        if (shown.page?.body.includes('name="decision"')) consented.push(login);
        return approveConsent(browser, shown);
      });
      githubTurn = turn.catch(() => {});
      return turn;
    };

  async function connectModern(): Promise<void> {
    modernProvider = new TestOAuthProviderV2(CLIENT_REDIRECT, person(ALICE.login), { client_name: 'SDK v2 client' });
    modern = new ModernClient(
      { name: 'sdk-v2-client', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } }, capabilities: { sampling: {}, elicitation: { form: {} } } },
    );
    modern.setRequestHandler('sampling/createMessage', async (request) => {
      const content = request.params.messages[0]!.content;
      const prompt = 'text' in content ? String(content.text) : '?';
      asked.modern.push(`sampling: ${prompt}`);
      return { role: 'assistant', content: { type: 'text', text: `v2 sampled "${prompt}"` }, model: 'test-model' };
    });
    modern.setRequestHandler('elicitation/create', async (request) => {
      asked.modern.push(`elicitation: ${request.params.message}`);
      return { action: 'accept', content: { name: 'Ada' } };
    });
    modern.setNotificationHandler('notifications/tools/list_changed', (notification) => void listChanges.modern.push(notification));
    const options = { authProvider: modernProvider, fetch: recordingFetch(modernLog) };
    await expect(modern.connect(new ModernTransport(endpoint, options))).rejects.toBeInstanceOf(ModernUnauthorizedError);
    const transport = new ModernTransport(endpoint, options);
    await transport.finishAuth(modernProvider.callbackParams());
    await modern.connect(transport);
  }

  async function connectLegacy(): Promise<void> {
    legacyProvider = new TestOAuthProvider(CLIENT_REDIRECT, person(BOB.login), { client_name: 'SDK v1 client' });
    legacy = new LegacyClient({ name: 'sdk-v1-client', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
    legacy.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const content = [request.params.messages[0]!.content].flat()[0];
      const prompt = content?.type === 'text' ? content.text : '?';
      asked.legacy.push(`sampling: ${prompt}`);
      return { role: 'assistant', content: { type: 'text', text: `v1 sampled "${prompt}"` }, model: 'test-model' };
    });
    legacy.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.legacy.push(`elicitation: ${request.params.message}`);
      return { action: 'accept', content: { name: 'Grace' } };
    });
    legacy.setNotificationHandler(ToolListChangedNotificationSchema, (notification) => void listChanges.legacy.push(notification));
    const options = { authProvider: legacyProvider, fetch: recordingFetch(legacyLog) };
    await expect(legacy.connect(new LegacyTransport(endpoint, options))).rejects.toBeInstanceOf(LegacyUnauthorizedError);
    legacyTransport = new LegacyTransport(endpoint, options);
    await legacyTransport.finishAuth(legacyProvider.code());
    await legacy.connect(legacyTransport);
  }

  /** The MCP requests (POSTs to the endpoint) in a log, optionally only those of one JSON-RPC method and tool. */
  const mcpPosts = (log: Sent[], method?: string, tool?: string): Sent[] =>
    log.filter(
      (sent) =>
        sent.method === 'POST' &&
        sent.url === endpoint.href &&
        (method === undefined || sent.body?.['method'] === method) &&
        (tool === undefined || sent.body?.['params']?.name === tool),
    );

  beforeAll(async () => {
    h = await startGatewayHarness(
      { allowedUsers: [ALICE.login, BOB.login], servers: { [SERVER]: { command: process.execPath, args: [FIXTURE] } } },
      { githubUsers: [ALICE, BOB] },
    );
    endpoint = new URL(h.urls.resourceFor(SERVER));
    await Promise.all([connectModern(), connectLegacy()]);
  });
  afterAll(async () => {
    // Closed before the gateway: an open listen stream makes its shutdown wait (see the last describe).
    await subscription?.close();
    await legacyTransport?.terminateSession().catch(() => {});
    await Promise.allSettled([modern?.close(), legacy?.close()]);
    await h?.close();
  });

  it('logged alice in with SDK v2 and bob with SDK v1 at the same time: discovery, registration, GitHub, consent, token', () => {
    for (const [provider, log, user] of [
      [modernProvider, modernLog, ALICE],
      [legacyProvider, legacyLog, BOB],
    ] as const) {
      const paths = log.map((sent) => `${sent.method} ${new URL(sent.url).pathname}`);
      expect(paths).toContain(`GET /.well-known/oauth-protected-resource/${SERVER}/mcp`);
      expect(paths).toContain('GET /.well-known/oauth-authorization-server');
      expect(paths).toContain('POST /register');
      expect(paths).toContain('POST /token');
      expect(provider.lastLogin?.redirectedTo?.searchParams.get('iss')).toBe(h.urls.issuer);
      const claims = decodeJwt(provider.tokens()!.access_token);
      expect(claims).toMatchObject({ sub: `github:${user.id}`, login: user.login, aud: endpoint.href });
    }
    expect(modernProvider.client?.client_id).not.toBe(legacyProvider.client?.client_id);
    expect(consented.sort()).toEqual([ALICE.login, BOB.login]);
    // Two trips through GitHub's web flow, each answered with a code the gateway redeemed.
    const github = h.github.requests.map((request) => `${request.method} ${request.path}`);
    expect(github.filter((line) => line === 'GET /login/oauth/authorize')).toHaveLength(2);
    expect(github.filter((line) => line === 'POST /login/oauth/access_token')).toHaveLength(2);

    expect(modern.getProtocolEra()).toBe('modern');
    expect(modern.getNegotiatedProtocolVersion()).toBe(MODERN);
    expect(legacyTransport.protocolVersion).toBe(LEGACY);
  });

  it('lists tools and calls one for both clients at once', async () => {
    const [modernTools, legacyTools, modernEcho, legacyEcho] = await Promise.all([
      modern.listTools(),
      legacy.listTools(),
      modern.callTool({ name: 'echo', arguments: { text: 'from v2' } }),
      legacy.callTool({ name: 'echo', arguments: { text: 'from v1' } }),
    ]);
    for (const tools of [modernTools, legacyTools]) expect(tools.tools.map((tool) => tool.name)).toEqual(['echo', 'instance', 'sample', 'elicit', 'grow']);
    expect(textOf(modernEcho)).toBe('from v2');
    expect(textOf(legacyEcho)).toBe('from v1');
  });

  it('completes an elicitation for both at once: v2 through input_required and a retry, v1 through a request on its session', async () => {
    const [modernResult, legacyResult] = await Promise.all([
      modern.callTool({ name: 'elicit', arguments: { message: 'v2: who are you?' } }),
      legacy.callTool({ name: 'elicit', arguments: { message: 'v1: who are you?' } }),
    ]);
    expect(JSON.parse(textOf(modernResult))).toEqual({ action: 'accept', content: { name: 'Ada' } });
    expect(JSON.parse(textOf(legacyResult))).toEqual({ action: 'accept', content: { name: 'Grace' } });
    expect(asked.modern).toEqual(['elicitation: v2: who are you?']);
    expect(asked.legacy).toEqual(['elicitation: v1: who are you?']);

    // v2: the call, then its retry with the answer and the gateway's sealed requestState.
    const [first, retry] = mcpPosts(modernLog, 'tools/call', 'elicit');
    expect(first?.body?.['params']).not.toHaveProperty('requestState');
    expect(retry?.body?.['params'].requestState).toEqual(expect.any(String));
    expect(Object.values(retry?.body?.['params'].inputResponses)).toEqual([{ action: 'accept', content: { name: 'Ada' } }]);
    // v1: the answer goes back as a JSON-RPC response POSTed on its session.
    expect(answersPosted(legacyLog)).toContainEqual({ action: 'accept', content: { name: 'Grace' } });
  });

  it('completes a sampling request for both at once, each answered by its own client', async () => {
    const [modernResult, legacyResult] = await Promise.all([
      modern.callTool({ name: 'sample', arguments: { prompt: 'v2: the answer?' } }),
      legacy.callTool({ name: 'sample', arguments: { prompt: 'v1: the answer?' } }),
    ]);
    expect(textOf(modernResult)).toBe('v2 sampled "v2: the answer?"');
    expect(textOf(legacyResult)).toBe('v1 sampled "v1: the answer?"');
    expect(asked.modern).toContain('sampling: v2: the answer?');
    expect(asked.legacy).toContain('sampling: v1: the answer?');
    const [first, retry] = mcpPosts(modernLog, 'tools/call', 'sample');
    expect(first?.body?.['params']).not.toHaveProperty('requestState');
    expect(Object.values(retry?.body?.['params'].inputResponses)).toEqual([expect.objectContaining({ model: 'test-model' })]);
    expect(answersPosted(legacyLog)).toContainEqual(expect.objectContaining({ model: 'test-model' }));
  });

  it('runs the two users on different MCP server processes', async () => {
    const [modernInstance, legacyInstance] = await Promise.all([modern.callTool({ name: 'instance' }), legacy.callTool({ name: 'instance' })]);
    expect(textOf(modernInstance)).not.toBe(textOf(legacyInstance));
  });

  it("tells each client of its own tool list change: v2 on subscriptions/listen, v1 on its session's stream", async () => {
    subscription = await modern.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true });
    // Each user's `grow` runs on that user's own process: both are its first.
    const [modernGrow, legacyGrow] = await Promise.all([modern.callTool({ name: 'grow' }), legacy.callTool({ name: 'grow' })]);
    expect(textOf(modernGrow)).toBe('grown-1');
    expect(textOf(legacyGrow)).toBe('grown-1');
    await eventually('both list changes', () => listChanges.modern.length > 0 && listChanges.legacy.length > 0);
    await sleep(200); // long enough for a change of the other user's to arrive, were it sent
    expect(listChanges.modern).toHaveLength(1);
    expect(listChanges.legacy).toHaveLength(1);
    const listenId = mcpPosts(modernLog, 'subscriptions/listen')[0]?.body?.['id'];
    expect(listChanges.modern[0]).toMatchObject({ params: { _meta: { 'io.modelcontextprotocol/subscriptionId': listenId } } });

    const [modernTools, legacyTools] = await Promise.all([modern.listTools(), legacy.listTools()]);
    expect(modernTools.tools.map((tool) => tool.name)).toContain('grown-1');
    expect(legacyTools.tools.map((tool) => tool.name)).toContain('grown-1');
    await subscription.close();
    expect(await subscription.closed).toBe('local');
  });

  it('sent every v2 request as a stateless 2026-07-28 one, beside the one 2025-11-25 session of v1', () => {
    const modernPosts = mcpPosts(modernLog);
    // The era is settled by server/discover (the first one unauthenticated: the 401 that started the login), never initialize.
    expect(modernPosts.filter((sent) => !sent.headers.has('authorization')).map((sent) => sent.body?.['method'])).toEqual(['server/discover']);
    expect(modernPosts.find((sent) => sent.headers.has('authorization'))?.body?.['method']).toBe('server/discover');
    expect(mcpPosts(modernLog, 'initialize')).toEqual([]);
    expect(modernPosts.length).toBeGreaterThan(10);
    for (const sent of modernPosts) {
      expect(sent.headers.get('mcp-protocol-version')).toBe(MODERN);
      expect(sent.headers.get('mcp-session-id')).toBeNull();
      expect(sent.body?.['params']?._meta?.['io.modelcontextprotocol/protocolVersion']).toBe(MODERN);
    }
    // 2026-07-28 has no GET stream; the 2025 session has one, which carried its list change.
    expect(modernLog.filter((sent) => sent.method === 'GET' && sent.url === endpoint.href)).toEqual([]);
    expect(legacyLog.some((sent) => sent.method === 'GET' && sent.url === endpoint.href && sent.headers.has('mcp-session-id'))).toBe(true);

    const [initialize, ...rest] = mcpPosts(legacyLog).filter((sent) => sent.headers.has('authorization'));
    expect(initialize?.body).toMatchObject({ method: 'initialize', params: { protocolVersion: LEGACY } });
    const sessionId = legacyTransport.sessionId;
    expect(sessionId).toEqual(expect.any(String));
    for (const sent of rest) {
      expect(sent.headers.get('mcp-session-id')).toBe(sessionId);
      expect(sent.headers.get('mcp-protocol-version')).toBe(LEGACY);
    }
    // The bridge holds one session (v1's); the v2 client's requests ran on children of alice's.
    expect(h.gateway.bridges.get(SERVER)?.sessionCount).toBe(1);
  });
});

/** The results of JSON-RPC responses a v1 client POSTed: its answers to the server's requests. */
function answersPosted(log: Sent[]): unknown[] {
  return log.filter((sent) => sent.body !== undefined && 'result' in sent.body && !('method' in sent.body)).map((sent) => sent.body?.['result']);
}

/**
 * Regression: the shutdown drain counted a 2026-07-28 subscriptions/listen stream (a POST that
 * stays open like a GET stream) as a request in flight, so every shutdown with one open waited out
 * the whole `shutdownGrace` (new requests got 503 meanwhile) before the bridge ended it.
 */
describe('shutting down while a 2026-07-28 client listens', () => {
  it('ends the subscription gracefully at once, without waiting out the shutdown grace', async () => {
    const graceMs = 3_000;
    const gw = await startLocalGateway({ shutdownGrace: `${graceMs / 1000}s`, servers: { [SERVER]: { command: process.execPath, args: [FIXTURE] } } });
    const client = new ModernClient({ name: 'listener', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    try {
      const headers = { authorization: `Bearer ${await gw.token(SERVER)}` };
      await client.connect(new ModernTransport(new URL(gw.urls.resourceFor(SERVER)), { requestInit: { headers } }));
      const subscription = await client.listen({ toolsListChanged: true });
      const started = Date.now();
      await gw.gateway.close();
      expect(await subscription.closed).toBe('graceful');
      expect(Date.now() - started).toBeLessThan(graceMs / 2);
    } finally {
      await client.close();
      await gw.close();
    }
  });
});
