import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../runtime/logger.js';
import { createStdioBridge, type BridgeOptions } from '../runtime/bridge/streamable-http-bridge.js';
import type { Bridge } from '../runtime/bridge/bridge.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/echo-mcp-server.mjs', import.meta.url));
const BOTH = 'application/json, text/event-stream';

interface Harness {
  bridge: Bridge;
  url: string;
  stop(): Promise<void>;
}

async function startBridge(overrides: Partial<BridgeOptions> = {}): Promise<Harness> {
  const bridge = createStdioBridge({
    serverName: 'echo',
    launch: { command: process.execPath, args: [FIXTURE], env: {} },
    logger: silentLogger(),
    ...overrides,
  });
  const server: Server = createServer((req, res) => void bridge.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    bridge,
    url: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      await bridge.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface PostOptions {
  sub?: string | null;
  session?: string;
  version?: string;
  accept?: string;
  contentType?: string;
  signal?: AbortSignal;
}

function post(url: string, body: unknown, options: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
    accept: options.accept ?? BOTH,
  };
  if (options.sub !== null) headers['x-user-sub'] = options.sub ?? 'alice';
  if (options.session !== undefined) headers['mcp-session-id'] = options.session;
  if (options.version !== undefined) headers['mcp-protocol-version'] = options.version;
  return fetch(url, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

const initializeRequest = (protocolVersion: string) => ({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'bridge-test', version: '1.0.0' } },
});

async function openSession(url: string, { sub = 'alice', version = '2025-06-18' } = {}): Promise<string> {
  const res = await post(url, initializeRequest(version), { sub });
  expect(res.status).toBe(200);
  const session = res.headers.get('mcp-session-id');
  expect(session).toBeTruthy();
  await res.text();
  const initialized = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { sub, session: session!, version });
  expect(initialized.status).toBe(202);
  return session!;
}

const toolCall = (id: number, name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
});

let nextId = 100;
async function callTool(url: string, session: string, name: string, args: Record<string, unknown> = {}, sub = 'alice') {
  return post(url, toolCall(nextId++, name, args), { session, sub, version: '2025-06-18' });
}

async function toolText(res: Response): Promise<string> {
  const body = (await res.json()) as { result: { content: Array<{ text: string }> } };
  return body.result.content[0]!.text;
}

function sseMessages(text: string): unknown[] {
  return text
    .split('\n\n')
    .map((event) => event.split('\n').find((line) => line.startsWith('data: ')))
    .filter((line): line is string => line !== undefined)
    .map((line) => JSON.parse(line.slice('data: '.length)));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('stdio bridge over Streamable HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBridge();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers initialize with the child result and a new Mcp-Session-Id', async () => {
    const res = await post(h.url, initializeRequest('2025-06-18'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as { id: number; result: { protocolVersion: string; serverInfo: { name: string } } };
    expect(body.id).toBe(0);
    expect(body.result.protocolVersion).toBe('2025-06-18');
    expect(body.result.serverInfo.name).toBe('echo-fixture');
  });

  it('relays tools/call echo and answers as JSON', async () => {
    const session = await openSession(h.url);
    const res = await callTool(h.url, session, 'echo', { text: 'hello bridge' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await toolText(res)).toBe('hello bridge');
  });

  it('switches a POST to SSE when the child sends progress, then ends it with the result', async () => {
    const session = await openSession(h.url);
    const res = await post(h.url, toolCall(11, 'slow', { steps: 2, delayMs: 20 }, { progressToken: 'tok-1' }), {
      session,
      version: '2025-06-18',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toContain('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const messages = sseMessages(await res.text()) as Array<Record<string, any>>;
    expect(messages.map((m) => m['method'] ?? 'response')).toEqual(['notifications/progress', 'notifications/progress', 'response']);
    expect(messages[0]!['params']).toMatchObject({ progressToken: 'tok-1', progress: 1, total: 2 });
    expect(messages[2]).toMatchObject({ id: 11, result: { content: [{ type: 'text', text: 'done after 2 steps' }] } });
  });

  it('answers with SSE from the start when the client accepts only text/event-stream', async () => {
    const session = await openSession(h.url);
    const res = await post(h.url, toolCall(12, 'add', { a: 2, b: 3 }), { session, accept: 'text/event-stream' });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(sseMessages(await res.text())).toEqual([{ jsonrpc: '2.0', id: 12, result: { content: [{ type: 'text', text: '5' }] } }]);
  });

  it('accepts a notification with 202 and no body', async () => {
    const session = await openSession(h.url);
    const res = await post(h.url, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, { session });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
  });

  it('refuses a non-initialize request without a session id with 400', async () => {
    const res = await post(h.url, toolCall(1, 'echo', { text: 'x' }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000 } });
  });

  it('answers 404 for an unknown session id', async () => {
    const res = await post(h.url, toolCall(1, 'echo', { text: 'x' }), { session: crypto.randomUUID() });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
  });

  it("answers 404 when another user presents a valid session id, and the owner's session keeps working", async () => {
    const session = await openSession(h.url, { sub: 'alice' });
    const stolen = await callTool(h.url, session, 'echo', { text: 'x' }, 'mallory');
    expect(stolen.status).toBe(404);
    const owner = await callTool(h.url, session, 'echo', { text: 'still mine' }, 'alice');
    expect(await toolText(owner)).toBe('still mine');
  });

  it('DELETE ends the session, kills its child and makes the id 404', async () => {
    const session = await openSession(h.url);
    const pid = Number(await toolText(await callTool(h.url, session, 'pid')));
    expect(isAlive(pid)).toBe(true);
    const del = await fetch(h.url, { method: 'DELETE', headers: { 'x-user-sub': 'alice', 'mcp-session-id': session } });
    expect(del.status).toBe(200);
    expect(isAlive(pid)).toBe(false);
    expect((await callTool(h.url, session, 'echo', { text: 'x' })).status).toBe(404);
  });

  it('a crashing child ends only its own session: 502 for the pending POST, 404 after', async () => {
    const doomed = await openSession(h.url);
    const survivor = await openSession(h.url);
    const crash = await callTool(h.url, doomed, 'crash');
    expect(crash.status).toBe(502);
    expect(await crash.json()).toMatchObject({ id: expect.any(Number), error: { code: -32000, message: expect.stringContaining('code 3') } });
    expect((await callTool(h.url, doomed, 'echo', { text: 'x' })).status).toBe(404);
    expect(await toolText(await callTool(h.url, survivor, 'echo', { text: 'unaffected' }))).toBe('unaffected');
  });

  it('sends a 2026-07-28 header on a 2025-shaped body to the stateless side, which asks for its _meta (400, -32602)', async () => {
    const session = await openSession(h.url);
    const res = await post(h.url, toolCall(1, 'echo', { text: 'x' }), { version: '2026-07-28', session });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32602, message: expect.stringContaining('io.modelcontextprotocol/protocolVersion') } });
  });

  it.each(['not-a-version', '2024-11-05'])('refuses MCP-Protocol-Version %s with 400 listing the supported versions', async (version) => {
    const session = await openSession(h.url);
    for (const withSession of [true, false]) {
      const res = await post(h.url, toolCall(1, 'echo', { text: 'x' }), { version, ...(withSession ? { session } : {}) });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { message: string; data: { supported: string[]; requested: string } } };
      expect(body.error.data).toEqual({ supported: ['2025-11-25', '2025-06-18', '2025-03-26'], requested: version });
      expect(body.error.message).toContain('2025-11-25, 2025-06-18, 2025-03-26');
    }
  });

  it('treats a missing MCP-Protocol-Version as 2025-03-26 and serves the request', async () => {
    const session = await openSession(h.url);
    const res = await post(h.url, toolCall(3, 'echo', { text: 'no header' }), { session });
    expect(await toolText(res)).toBe('no header');
  });

  it('accepts a JSON-RPC batch on a 2025-03-26 session and answers with an array in request order', async () => {
    const session = await openSession(h.url, { version: '2025-03-26' });
    const res = await post(
      h.url,
      [toolCall(21, 'slow', { steps: 1, delayMs: 30 }), { jsonrpc: '2.0', method: 'notifications/whatever' }, toolCall(22, 'add', { a: 1, b: 2 })],
      { session, version: '2025-03-26' },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Array<{ id: number; result: { content: Array<{ text: string }> } }>;
    expect(body.map((r) => [r.id, r.result.content[0]!.text])).toEqual([
      [21, 'done after 1 steps'],
      [22, '3'],
    ]);
  });

  it('refuses a JSON-RPC batch on a 2025-06-18 session with 400', async () => {
    const session = await openSession(h.url, { version: '2025-06-18' });
    const res = await post(h.url, [toolCall(1, 'add', { a: 1, b: 2 })], { session, version: '2025-06-18' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32600 } });
  });

  it('refuses a body that is not application/json with 415', async () => {
    const res = await post(h.url, initializeRequest('2025-06-18'), { contentType: 'text/plain' });
    expect(res.status).toBe(415);
  });

  it('refuses invalid JSON with 400 and a -32700 parse error', async () => {
    const res = await post(h.url, '{"jsonrpc": "2.0", "id": 1,');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
  });

  it('refuses JSON that is not a JSON-RPC message with 400 -32600', async () => {
    const res = await post(h.url, { hello: 'world' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32600 } });
  });

  it('refuses a request without x-user-sub with 401 JSON', async () => {
    const res = await post(h.url, initializeRequest('2025-06-18'), { sub: null });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    expect(h.bridge.sessionCount).toBeGreaterThanOrEqual(0);
  });

  it('refuses an Accept that allows neither JSON nor SSE with 406, and takes */*', async () => {
    expect((await post(h.url, initializeRequest('2025-06-18'), { accept: 'text/html' })).status).toBe(406);
    const res = await post(h.url, initializeRequest('2025-06-18'), { accept: '*/*' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  it('answers other methods with 405 and Allow', async () => {
    const res = await fetch(h.url, { method: 'PUT', headers: { 'x-user-sub': 'alice' } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, DELETE');
  });

  it('GET opens one SSE stream per session: 405 without the Accept, 400 without a session, 409 for a second', async () => {
    const session = await openSession(h.url);
    const get = (headers: Record<string, string>) => fetch(h.url, { headers: { 'x-user-sub': 'alice', ...headers } });
    expect((await get({ 'mcp-session-id': session, accept: 'application/json' })).status).toBe(405);
    expect((await get({ accept: 'text/event-stream' })).status).toBe(400);
    expect((await get({ accept: 'text/event-stream', 'mcp-session-id': crypto.randomUUID() })).status).toBe(404);
    const controller = new AbortController();
    const stream = await fetch(h.url, {
      headers: { 'x-user-sub': 'alice', accept: 'text/event-stream', 'mcp-session-id': session },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    expect((await get({ accept: 'text/event-stream', 'mcp-session-id': session })).status).toBe(409);
    controller.abort();
    await stream.body?.cancel().catch(() => {});
  });

  it('ends a pending POST with 202 when the client cancels its request', async () => {
    const session = await openSession(h.url);
    const pending = post(h.url, toolCall(41, 'slow', { steps: 1, delayMs: 2000 }), { session });
    await new Promise((resolve) => setTimeout(resolve, 150)); // the request is with the child
    const cancel = await post(h.url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 41, reason: 'test' } }, { session });
    expect(cancel.status).toBe(202);
    const res = await pending;
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
  });

  it('survives a client that disconnects mid-SSE, and the session keeps working', async () => {
    const session = await openSession(h.url);
    const controller = new AbortController();
    const res = await post(h.url, toolCall(31, 'slow', { steps: 5, delayMs: 40 }, { progressToken: 7 }), {
      session,
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the first progress event
    controller.abort();
    await reader.cancel().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 250)); // the child finishes; its answer is dropped
    expect(await toolText(await callTool(h.url, session, 'echo', { text: 'after abort' }))).toBe('after abort');
  });
});

describe('stdio bridge limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBridge({ maxMessageBytes: 64 * 1024, requestTimeoutMs: 400 });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('refuses a body over maxMessageBytes with 413', async () => {
    const res = await post(h.url, { jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(200 * 1024) } });
    expect(res.status).toBe(413);
  });

  it('answers a request the child does not answer in time with a -32001 error, and the session lives on', async () => {
    const session = await openSession(h.url);
    const res = await callTool(h.url, session, 'slow', { steps: 1, delayMs: 1500 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: expect.any(Number), error: { code: -32001 } });
    expect(await toolText(await callTool(h.url, session, 'echo', { text: 'alive' }))).toBe('alive');
  });
});
