import { describe, expect, it } from 'vitest';
import { createLogger } from '../runtime/logger.js';
import {
  callTool,
  childProcesses,
  deleteSession,
  initializeRequest,
  openGetStream,
  openSession,
  post,
  sleep,
  sseEvents,
  bridgesStoppedAfterEach,
  toolText,
} from './helpers/bridge-harness.js';

const bridge = bridgesStoppedAfterEach();

/** On `flood`: 20,000 junk lines and 2,000 log notifications on stdout as fast as it can, then the answer. */
const FLOODER = String.raw`
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = JSON.parse(line);
  if (msg.method === 'initialize') return send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'flood', version: '1' } } });
  if (msg.method === 'tools/call') {
    let junk = '';
    for (let i = 0; i < 20000; i++) junk += 'junk line ' + i + '\n';
    process.stdout.write(junk);
    for (let i = 0; i < 2000; i++) send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'flood ' + i } });
    send({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: 'survived' }] } });
  }
});
`;

/** A stdio server in one `sed` process (cheap to start a thousand of): answers initialize only. */
const SED_SERVER = [
  '-un',
  's/^{"jsonrpc":"2.0","id":\\([0-9]*\\),"method":"initialize".*/{"jsonrpc":"2.0","id":\\1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"sed","version":"1"}}}/p',
];

describe('bridge fault handling', () => {
  it('a child crashing mid-call ends the streaming POST with a JSON-RPC error for its request, and the session is 404 after', async () => {
    const h = await bridge();
    const session = await openSession(h.url);
    const streaming = await post(
      h.url,
      { jsonrpc: '2.0', id: 51, method: 'tools/call', params: { name: 'slow', arguments: { steps: 50, delayMs: 20 }, _meta: { progressToken: 'p' } } },
      { session },
    );
    const events = sseEvents(streaming);
    expect(await events.message()).toMatchObject({ method: 'notifications/progress' });
    await (await callTool(h.url, session, 'crash')).text();
    let last: Record<string, any> | undefined;
    for (let message = await events.message(); message !== undefined; message = await events.message()) last = message;
    expect(last).toMatchObject({ id: 51, error: { code: -32000, message: expect.stringContaining('exited (code 3)') } });
    expect((await callTool(h.url, session, 'echo', { text: 'x' })).status).toBe(404);
    await expect.poll(() => childProcesses().length).toBe(0);
  });

  it('a child that never answers initialize: 504 after the timeout, no session id, no session or process left', async () => {
    const h = await bridge({
      launch: { command: process.execPath, args: ['-e', 'process.stdin.resume(); setInterval(() => {}, 1000)'], env: {} },
      initializeTimeoutMs: 400,
    });
    const res = await post(h.url, initializeRequest('2025-06-18', {}, 'init-1'));
    expect(res.status).toBe(504);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(await res.json()).toMatchObject({ id: 'init-1', error: { code: -32001 } });
    await expect.poll(() => h.bridge.sessionCount).toBe(0);
    await expect.poll(() => childProcesses().length, { timeout: 5_000 }).toBe(0);
  });

  it('a child flooding stdout costs bounded memory and log: the answer still arrives and the session keeps working', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });
    const h = await bridge({
      launch: { command: process.execPath, args: ['-e', FLOODER], env: {} },
      logger,
      eventLog: { maxEvents: 100, maxBytes: 1024 * 1024 },
    });
    const session = await openSession(h.url);
    // JSON only: the notifications cannot ride on this POST, so they go to the (bounded) event log.
    expect(await toolText(await callTool(h.url, session, 'flood', {}, { accept: 'application/json' }))).toBe('survived');
    const junkLogged = logs.filter((l) => l['msg'] === 'skipping non-JSON line from MCP server').length;
    expect(junkLogged).toBeGreaterThan(0);
    expect(junkLogged).toBeLessThanOrEqual(100);
    const controller = new AbortController();
    const events = sseEvents(await openGetStream(h.url, session, { signal: controller.signal }));
    expect((await events.message())?.['params']?.['data']).toBe('flood 1900'); // the newest 100 were kept
    controller.abort();
    await events.cancel();
    expect(await toolText(await callTool(h.url, session, 'flood', {}, { accept: 'application/json' }))).toBe('survived');
  });

  it('a client that disconnects mid-SSE on its GET stream loses nothing: later messages wait for the next GET', async () => {
    const h = await bridge();
    const session = await openSession(h.url);
    const controller = new AbortController();
    const first = sseEvents(await openGetStream(h.url, session, { signal: controller.signal }));
    controller.abort();
    await first.cancel();
    await sleep(50);
    expect(await toolText(await callTool(h.url, session, 'notify', { count: 2, delayMs: 5 }, { accept: 'application/json' }))).toBe('sending 2');
    await sleep(100);
    const again = new AbortController();
    const second = sseEvents(await openGetStream(h.url, session, { signal: again.signal }));
    expect([(await second.message())?.['params']?.['data'], (await second.message())?.['params']?.['data']]).toEqual(['event 1', 'event 2']);
    again.abort();
    await second.cancel();
    expect((await deleteSession(h.url, session)).status).toBe(200);
  });

  it('opens and closes 1,000 sessions, 16 at a time, and leaves no process behind', async () => {
    const h = await bridge({ launch: { command: 'sed', args: SED_SERVER, env: {} } });
    let opened = 0;
    const worker = async (): Promise<void> => {
      while (opened < 1000) {
        opened++;
        const res = await post(h.url, initializeRequest());
        expect(res.status).toBe(200);
        await res.text();
        expect((await deleteSession(h.url, res.headers.get('mcp-session-id')!)).status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(h.bridge.sessionCount).toBe(0);
    expect(childProcesses()).toEqual([]);
  }, 30_000);
});
