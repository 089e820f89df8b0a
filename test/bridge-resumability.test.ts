import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callTool,
  deleteSession,
  initializeRequest,
  openGetStream,
  openSession,
  post,
  sleep,
  sseEvents,
  startBridge,
  toolText,
  type BridgeHarness,
} from './helpers/bridge-harness.js';

/** `notify` answers at once and then sends `count` notifications/message ("event 1", ...). */
async function notify(h: BridgeHarness, session: string, count: number, delayMs = 5): Promise<void> {
  expect(await toolText(await callTool(h.url, session, 'notify', { count, delayMs }, { accept: 'application/json' }))).toBe(`sending ${count}`);
}

const eventText = (message: Record<string, any> | undefined) => message?.['params']?.['data'];

describe('GET stream: event store and resumability (raw HTTP)', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge({ eventLog: { maxEvents: 4, maxBytes: 1024 * 1024 } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('holds server messages sent while no GET stream is open and delivers them, with event ids, on the next GET', async () => {
    const session = await openSession(h.url);
    await notify(h, session, 3);
    await sleep(150); // all three were sent with no stream to carry them
    const controller = new AbortController();
    const res = await openGetStream(h.url, session, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const events = sseEvents(res);
    const received = [await events.message(), await events.message(), await events.message()];
    expect(received.map(eventText)).toEqual(['event 1', 'event 2', 'event 3']);
    expect(received.map((m) => m?.['eventId'])).toEqual(['1', '2', '3']);
    controller.abort();
    await events.cancel();
  });

  it('replays what followed Last-Event-ID when a client resumes a lost GET stream', async () => {
    const session = await openSession(h.url);
    const first = new AbortController();
    const events = sseEvents(await openGetStream(h.url, session, { signal: first.signal }));
    await notify(h, session, 3);
    expect((await events.message())?.['eventId']).toBe('1');
    expect((await events.message())?.['eventId']).toBe('2');
    expect((await events.message())?.['eventId']).toBe('3');
    first.abort(); // the connection is lost; the client saw up to event 3 but pretends it saw 2
    await events.cancel();
    await notify(h, session, 1); // event 4, sent while no stream is open
    await sleep(100);
    const second = new AbortController();
    const resumed = await openGetStream(h.url, session, { lastEventId: '2', signal: second.signal });
    expect(resumed.status).toBe(200);
    const replay = sseEvents(resumed);
    const got = [await replay.message(), await replay.message()];
    expect(got.map((m) => [m?.['eventId'], eventText(m)])).toEqual([
      ['3', 'event 3'],
      ['4', 'event 1'],
    ]);
    second.abort();
    await replay.cancel();
  });

  it('takes a Last-Event-ID while a stream is open as that stream being dead, and replaces it', async () => {
    const session = await openSession(h.url);
    const old = sseEvents(await openGetStream(h.url, session));
    const controller = new AbortController();
    const replacement = await openGetStream(h.url, session, { lastEventId: '0', signal: controller.signal });
    expect(replacement.status).toBe(200);
    expect(await old.next()).toBeUndefined(); // the old stream was ended
    controller.abort();
  });

  it('refuses a Last-Event-ID this session never issued with 400, and a second plain GET with 409', async () => {
    const session = await openSession(h.url);
    expect((await openGetStream(h.url, session, { lastEventId: 'abc' })).status).toBe(400);
    expect((await openGetStream(h.url, session, { lastEventId: '99' })).status).toBe(400);
    const controller = new AbortController();
    await openGetStream(h.url, session, { signal: controller.signal });
    expect((await openGetStream(h.url, session)).status).toBe(409);
    controller.abort();
  });

  it('bounds the per-session event store: only the newest events wait for a stream', async () => {
    const session = await openSession(h.url);
    await notify(h, session, 7, 2);
    await sleep(400); // all seven were sent
    const controller = new AbortController();
    const events = sseEvents(await openGetStream(h.url, session, { signal: controller.signal }));
    const got = [await events.message(), await events.message(), await events.message(), await events.message()];
    expect(got.map((m) => m?.['eventId'])).toEqual(['4', '5', '6', '7']);
    controller.abort();
    await events.cancel();
  });

  it('starts a 2025-11-25 GET stream with a priming event (an id and empty data)', async () => {
    const session = await openSession(h.url, { version: '2025-11-25' });
    const controller = new AbortController();
    const events = sseEvents(await openGetStream(h.url, session, { signal: controller.signal }));
    expect(await events.next()).toEqual({ id: '0', data: '' });
    controller.abort();
    await events.cancel();
  });

  it('ends the GET stream when the session is deleted, and the session id is 404 after', async () => {
    const session = await openSession(h.url);
    const events = sseEvents(await openGetStream(h.url, session));
    expect((await deleteSession(h.url, session)).status).toBe(200);
    expect(await events.next()).toBeUndefined();
    expect((await openGetStream(h.url, session)).status).toBe(404);
    expect((await deleteSession(h.url, session)).status).toBe(404);
  });
});

describe('protocol versions the bridge does not speak', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers a 2026-07-28 header on a body without its _meta with 400 -32602 naming the key, starting no child', async () => {
    const res = await post(
      h.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      { version: '2026-07-28', headers: { 'mcp-method': 'tools/list' } },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ id: 1, error: { code: -32602, message: expect.stringContaining('io.modelcontextprotocol/protocolVersion') } });
    expect(h.bridge.sessionCount).toBe(0);
  });

  it('refuses initialize sent with an MCP-Protocol-Version header we do not speak, without starting a child', async () => {
    const res = await post(h.url, initializeRequest('2026-07-28'), { version: '2026-07-28' });
    expect(res.status).toBe(400);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(h.bridge.sessionCount).toBe(0);
  });
});
