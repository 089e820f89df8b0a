import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../runtime/logger.js';
import { createStdioBridge } from '../runtime/bridge/streamable-http-bridge.js';
import type { Bridge } from '../runtime/bridge/bridge.js';

/**
 * A hand-rolled stdio server (no SDK) so the test controls exactly what reaches stdout: a
 * server-to-client request in the middle of a tool call, junk lines, a multi-megabyte line, a
 * stderr flood, and a notification about the session as a whole.
 */
const RAW_SERVER = String.raw`
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const result = (id, text) => send({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } });
const asked = new Map();
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf('\n')) !== -1) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    handle(JSON.parse(line));
  }
});
function handle(msg) {
  if (msg.method === 'initialize') {
    return send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'raw', version: '1' } } });
  }
  if (msg.method === 'tools/call') {
    const args = msg.params.arguments ?? {};
    switch (msg.params.name) {
      case 'ask':
        asked.set('sample-' + msg.id, msg.id);
        return send({ jsonrpc: '2.0', id: 'sample-' + msg.id, method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'ping?' } }], maxTokens: 5 } });
      case 'noisy':
        process.stdout.write('this is not json\n');
        process.stdout.write('{"not":"json-rpc"}\n');
        return result(msg.id, 'clean');
      case 'big':
        return result(msg.id, 'x'.repeat(args.size));
      case 'stderr-flood':
        for (let i = 0; i < 5000; i++) process.stderr.write('flood line ' + i + '\n');
        process.stderr.write('y'.repeat(100000) + '\n');
        return result(msg.id, 'flooded');
      case 'announce':
        send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
        return result(msg.id, 'announced');
    }
  }
  if (msg.method === undefined && asked.has(msg.id)) {
    const original = asked.get(msg.id);
    asked.delete(msg.id);
    return result(original, 'client said: ' + msg.result.content.text);
  }
}
`;

interface Harness {
  bridge: Bridge;
  url: string;
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startBridge(): Promise<Harness> {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });
  const bridge = createStdioBridge({ serverName: 'raw', launch: { command: process.execPath, args: ['-e', RAW_SERVER], env: {} }, logger });
  const server: Server = createServer((req, res) => void bridge.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    bridge,
    url: `http://127.0.0.1:${port}/mcp`,
    logs,
    async stop() {
      await bridge.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function headers(session?: string, accept = 'application/json, text/event-stream'): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept,
    'x-user-sub': 'alice',
    'mcp-protocol-version': '2025-06-18',
    ...(session === undefined ? {} : { 'mcp-session-id': session }),
  };
}

async function openSession(url: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

function callTool(url: string, session: string, id: number, name: string, args: Record<string, unknown> = {}, accept?: string) {
  return fetch(url, {
    method: 'POST',
    headers: headers(session, accept),
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }),
  });
}

/** Reads JSON-RPC messages off an SSE body as they arrive. */
function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  return {
    async next(): Promise<Record<string, any> | undefined> {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end !== -1) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = event.split('\n').find((line) => line.startsWith('data: '));
          if (data !== undefined) return JSON.parse(data.slice(6));
          continue;
        }
        const { value, done } = await reader.read();
        if (done) return undefined;
        buffered += value;
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

describe('bridge relay of server-initiated messages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBridge();
  });
  afterAll(async () => {
    await h.stop();
  });

  it("carries a server-to-client request on the POST's SSE stream and relays the client's answer back", async () => {
    const session = await openSession(h.url);
    const res = await callTool(h.url, session, 5, 'ask');
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = sseReader(res);
    const sampling = await events.next();
    expect(sampling).toMatchObject({ id: 'sample-5', method: 'sampling/createMessage' });
    const answer = await fetch(h.url, {
      method: 'POST',
      headers: headers(session),
      body: JSON.stringify({ jsonrpc: '2.0', id: 'sample-5', result: { role: 'assistant', content: { type: 'text', text: 'pong' }, model: 'm' } }),
    });
    expect(answer.status).toBe(202);
    expect(await events.next()).toMatchObject({ id: 5, result: { content: [{ text: 'client said: pong' }] } });
    expect(await events.next()).toBeUndefined();
  });

  it('sends a server-to-client request to the GET stream when the POST takes only JSON', async () => {
    const session = await openSession(h.url);
    const controller = new AbortController();
    const get = await fetch(h.url, { headers: headers(session, 'text/event-stream'), signal: controller.signal });
    expect(get.status).toBe(200);
    const stream = sseReader(get);
    const pending = callTool(h.url, session, 6, 'ask', {}, 'application/json');
    expect(await stream.next()).toMatchObject({ id: 'sample-6', method: 'sampling/createMessage' });
    await fetch(h.url, {
      method: 'POST',
      headers: headers(session),
      body: JSON.stringify({ jsonrpc: '2.0', id: 'sample-6', result: { role: 'assistant', content: { type: 'text', text: 'via GET' }, model: 'm' } }),
    });
    const res = await pending;
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ id: 6, result: { content: [{ text: 'client said: via GET' }] } });
    controller.abort();
    await stream.cancel();
  });

  it('sends a session-wide notification to the GET stream, not to the pending POST', async () => {
    const session = await openSession(h.url);
    const controller = new AbortController();
    const get = await fetch(h.url, { headers: headers(session, 'text/event-stream'), signal: controller.signal });
    const stream = sseReader(get);
    const res = await callTool(h.url, session, 8, 'announce');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ id: 8, result: { content: [{ text: 'announced' }] } });
    expect(await stream.next()).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    controller.abort();
    await stream.cancel();
  });

  it('skips and logs stdout lines that are not JSON-RPC, then relays the answer', async () => {
    const session = await openSession(h.url);
    const res = await callTool(h.url, session, 9, 'noisy');
    expect(await res.json()).toMatchObject({ id: 9, result: { content: [{ text: 'clean' }] } });
    const skipped = h.logs.filter((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('skipping non-JSON'));
    expect(skipped.map((l) => l['line'])).toEqual(expect.arrayContaining(['this is not json', '{"not":"json-rpc"}']));
  });

  it('relays a multi-megabyte line intact', async () => {
    const session = await openSession(h.url);
    const size = 3 * 1024 * 1024;
    const res = await callTool(h.url, session, 10, 'big', { size });
    const body = (await res.json()) as { result: { content: Array<{ text: string }> } };
    expect(body.result.content[0]!.text).toHaveLength(size);
  });

  it('rate-limits and truncates a stderr flood without losing the session', async () => {
    const session = await openSession(h.url);
    const res = await callTool(h.url, session, 11, 'stderr-flood');
    expect(await res.json()).toMatchObject({ id: 11, result: { content: [{ text: 'flooded' }] } });
    await new Promise((resolve) => setTimeout(resolve, 100)); // stderr may trail stdout
    const stderr = h.logs.filter((l) => l['stream'] === 'stderr' && l['session'] === session);
    expect(stderr.length).toBeGreaterThan(0);
    expect(stderr.length).toBeLessThanOrEqual(101);
    expect(stderr.every((l) => l['server'] === 'raw')).toBe(true);
    expect(stderr.every((l) => String(l['msg'] ?? '').length <= 4096)).toBe(true);
  });
});
