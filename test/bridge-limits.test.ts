import { describe, expect, it } from 'vitest';
import {
  callTool,
  childProcesses,
  deleteSession,
  initializeRequest,
  isAlive,
  openGetStream,
  openSession,
  post,
  sleep,
  bridgesStoppedAfterEach,
  toolText,
} from './helpers/bridge-harness.js';

const bridge = bridgesStoppedAfterEach();

/** Answers initialize, then never reads stdin again: writes to it pile up in the gateway. */
const STOPS_READING = String.raw`
let buffer = '';
const onData = (chunk) => {
  buffer += chunk;
  const nl = buffer.indexOf('\n');
  if (nl === -1) return;
  const msg = JSON.parse(buffer.slice(0, nl));
  process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'deaf', version: '1' } } }) + '\n');
  process.stdin.off('data', onData);
  process.stdin.pause();
  setInterval(() => {}, 1000);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', onData);
`;

describe('Origin validation (DNS rebinding)', () => {
  it('refuses a request whose Origin is not allowed with 403 before starting anything, and serves allowed and absent origins', async () => {
    const h = await bridge({ allowedOrigins: ['https://app.example.com', 'http://127.0.0.1:6274'] });
    const evil = await post(h.url, initializeRequest(), { headers: { origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    expect(await evil.json()).toMatchObject({ error: { code: -32000, message: 'Forbidden: Origin not allowed' } });
    expect((await post(h.url, initializeRequest(), { headers: { origin: 'null' } })).status).toBe(403);
    expect(h.bridge.sessionCount).toBe(0);
    for (const origin of ['https://app.example.com', 'HTTPS://APP.EXAMPLE.COM:443', 'http://127.0.0.1:6274']) {
      const res = await post(h.url, initializeRequest(), { headers: { origin } });
      expect(res.status, origin).toBe(200);
      await res.text();
    }
    const session = await openSession(h.url);
    const get = await openGetStream(h.url, session, { sub: 'alice' });
    expect(get.status).toBe(200);
    await get.body?.cancel();
    const del = await fetch(h.url, { method: 'DELETE', headers: { 'x-user-sub': 'alice', 'mcp-session-id': session, origin: 'http://evil.example' } });
    expect(del.status).toBe(403);
  });
});

describe('session limits', () => {
  it('answers initialize past the per-user limit with 503 and Retry-After, and frees the place when a session ends', async () => {
    const h = await bridge({ maxSessionsPerUser: 2, maxSessions: 3 });
    const [a1] = [await openSession(h.url), await openSession(h.url)];
    const refused = await post(h.url, initializeRequest('2025-06-18', {}, 7));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(await refused.json()).toMatchObject({ id: 7, error: { code: -32000 } });
    await openSession(h.url, { sub: 'bob' }); // another user still has room
    const full = await post(h.url, initializeRequest(), { sub: 'carol' });
    expect(full.status).toBe(503); // the server limit (3)
    expect(full.headers.get('retry-after')).toBe('30');
    expect((await deleteSession(h.url, a1!)).status).toBe(200);
    await openSession(h.url);
    expect(h.bridge.sessionCount).toBe(3);
  });

  it('counts sessions that are still starting: a burst of initializes cannot pass the limit', async () => {
    const h = await bridge({ maxSessionsPerUser: 2 });
    const statuses = await Promise.all(
      Array.from({ length: 6 }, () =>
        post(h.url, initializeRequest()).then(async (res) => {
          await res.text();
          return res.status;
        }),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 503)).toHaveLength(4);
  });
});

describe('idle timeout', () => {
  it('ends a session unused for idleTimeout: its child is stopped and its id is 404 after', async () => {
    const h = await bridge({ idleTimeoutMs: 300 });
    const session = await openSession(h.url);
    const pid = Number(await toolText(await callTool(h.url, session, 'pid')));
    await expect.poll(() => isAlive(pid), { timeout: 3_000, interval: 50 }).toBe(false);
    expect((await callTool(h.url, session, 'echo', { text: 'x' })).status).toBe(404);
    expect(h.bridge.sessionCount).toBe(0);
  });

  it('keeps a session whose GET stream is open, or which is in use, past the idle timeout', async () => {
    const h = await bridge({ idleTimeoutMs: 600 });
    const streaming = await openSession(h.url);
    const controller = new AbortController();
    await openGetStream(h.url, streaming, { signal: controller.signal });
    const active = await openSession(h.url);
    for (let i = 0; i < 10; i++) {
      await sleep(100);
      expect(await toolText(await callTool(h.url, active, 'echo', { text: 'still here' }))).toBe('still here');
    }
    expect(await toolText(await callTool(h.url, streaming, 'echo', { text: 'streaming' }))).toBe('streaming');
    controller.abort();
  });
});

describe('stdin backpressure', () => {
  it('refuses messages with 503 once a child that stopped reading has a full queue, instead of buffering without bound', async () => {
    const h = await bridge({ launch: { command: process.execPath, args: ['-e', STOPS_READING], env: {} }, stdinQueueBytes: 256 * 1024 });
    const session = await openSession(h.url);
    const big = { jsonrpc: '2.0', method: 'notifications/message', params: { pad: 'x'.repeat(100 * 1024) } };
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await post(h.url, big, { session, version: '2025-06-18' })).status);
    expect(statuses.slice(0, 2)).toEqual([202, 202]);
    expect(statuses).toContain(503);
    // Accepted: the 64 KiB pipe plus at most the 256 KiB queue and one message.
    expect(statuses.filter((s) => s === 202).length).toBeLessThanOrEqual(5);
    const busy = await post(h.url, big, { session, version: '2025-06-18' });
    expect(busy.headers.get('retry-after')).toBe('1');
    await busy.text();
    expect((await deleteSession(h.url, session)).status).toBe(200);
    await expect.poll(() => childProcesses().length, { timeout: 5_000 }).toBe(0);
  });
});

describe('maximum message size', () => {
  it('refuses a body over maxMessageBytes with 413 whether or not it declares its length', async () => {
    const h = await bridge({ maxMessageBytes: 16 * 1024 });
    const session = await openSession(h.url);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(64 * 1024) } } });
    expect((await post(h.url, body, { session })).status).toBe(413);
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    });
    const res = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-user-sub': 'alice', 'mcp-session-id': session },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await toolText(await callTool(h.url, session, 'echo', { text: 'small is fine' }))).toBe('small is fine');
  });
});
