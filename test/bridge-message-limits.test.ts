import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE_DEFAULTS } from '../runtime/bridge/bridge-options.js';
import { serverSchema } from '../runtime/config/schema.js';
import { createRemoteProxy } from '../runtime/bridge/remote-proxy.js';
import type { Bridge } from '../runtime/bridge/bridge.js';
import { silentLogger } from '../runtime/logger.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ServeProcess } from './helpers/serve-process.js';
import {
  BOTH,
  bridgesStoppedAfterEach,
  callTool,
  initializeRequest,
  openSession,
  post,
  sleep,
  sseEvents,
  toolText,
  type BridgeHarness,
} from './helpers/bridge-harness.js';

const HUGE_LINE_SERVER = fileURLToPath(new URL('./fixtures/huge-line-mcp-server.mjs', import.meta.url));
const MiB = 1024 * 1024;
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const LIMIT = 2 * MiB;

const bridge = bridgesStoppedAfterEach();

function hugeLineBridge(maxMessageBytes: number | undefined = LIMIT, requestTimeoutMs = 60_000): Promise<BridgeHarness> {
  return bridge({
    launch: { command: process.execPath, args: [HUGE_LINE_SERVER], env: {} },
    requestTimeoutMs,
    ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
  });
}

interface JsonRpcReply {
  id: number | string | null;
  result?: { content: Array<{ text: string }> };
  error?: { code: number; message: string; data?: { maxMessageBytes?: number } };
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work;
  return { value, ms: Date.now() - started };
}

describe('maxMessageBytes: messages from the child', () => {
  it('is 16 MiB unless configured', () => {
    expect(BRIDGE_DEFAULTS.maxMessageBytes).toBe(16 * MiB);
  });

  for (const idAt of ['tail', 'head'] as const) {
    it(`ends the request answered by an oversized line with a JSON-RPC error at once (id at the ${idAt}), and the session keeps working`, async () => {
      const h = await hugeLineBridge();
      const session = await openSession(h.url);
      const { value: res, ms } = await timed(callTool(h.url, session, 'huge', { bytes: LIMIT + MiB, idAt }, { accept: 'application/json' }));
      expect(res.status).toBe(200);
      const reply = (await res.json()) as JsonRpcReply;
      expect(reply.error).toMatchObject({ code: -32603, data: { maxMessageBytes: LIMIT } });
      expect(reply.error?.message).toContain(`maxMessageBytes (${LIMIT} bytes)`);
      expect(typeof reply.id).toBe('number');
      expect(ms).toBeLessThan(10_000); // not the request timeout
      expect(await toolText(await callTool(h.url, session, 'echo', { text: 'still here' }))).toBe('still here');
    });
  }

  it('relays a line just under the limit unchanged', async () => {
    const h = await hugeLineBridge();
    const session = await openSession(h.url);
    const res = await callTool(h.url, session, 'huge', { bytes: LIMIT - 1024 }, { accept: 'application/json' });
    expect((await toolText(res)).length).toBe(LIMIT - 1024);
  });

  it('with no id in the ends of the line, fails the only request in flight', async () => {
    const h = await hugeLineBridge();
    const session = await openSession(h.url);
    const res = await callTool(h.url, session, 'huge', { bytes: LIMIT * 2, idAt: 'none' }, { accept: 'application/json' });
    expect(((await res.json()) as JsonRpcReply).error).toMatchObject({ code: -32603 });
  });

  it('with no id and several requests in flight, fails none of them: each is answered or times out on its own', async () => {
    const h = await hugeLineBridge(LIMIT, 1_500);
    const session = await openSession(h.url);
    const echo = callTool(h.url, session, 'echo', { text: 'innocent', delayMs: 800 }, { accept: 'application/json' });
    await sleep(200); // the echo is in flight while the oversized line arrives
    const huge = await callTool(h.url, session, 'huge', { bytes: LIMIT * 2, idAt: 'none' }, { accept: 'application/json' });
    expect(await toolText(await echo)).toBe('innocent');
    expect(((await huge.json()) as JsonRpcReply).error).toMatchObject({ code: -32001 }); // the request timeout
  });

  it('drops an oversized notification without failing the request it came with', async () => {
    const h = await hugeLineBridge();
    const session = await openSession(h.url);
    const res = await callTool(h.url, session, 'huge', { bytes: LIMIT * 2, kind: 'notification' });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await toolText(res)).toBe('after the notification');
  });

  it('answers an oversized request from the child with a JSON-RPC error, so the child need not wait', async () => {
    const h = await hugeLineBridge();
    const session = await openSession(h.url);
    const res = await callTool(h.url, session, 'huge', { bytes: LIMIT * 2, kind: 'request' }, { accept: 'application/json' });
    expect(JSON.parse(await toolText(res))).toMatchObject({ code: -32603, data: { maxMessageBytes: LIMIT } });
  });

  it('fails an initialize whose answer is oversized and keeps no session for it', async () => {
    const h = await bridge({
      launch: { command: process.execPath, args: [HUGE_LINE_SERVER, '--huge-initialize', String(LIMIT + 1)], env: {} },
      maxMessageBytes: LIMIT,
    });
    const res = await post(h.url, initializeRequest(), { accept: 'application/json' });
    expect(((await res.json()) as JsonRpcReply).error).toMatchObject({ code: -32603, data: { maxMessageBytes: LIMIT } });
    await expect.poll(() => h.bridge.sessionCount).toBe(0);
  });
});

describe('maxMessageBytes: messages from the client', () => {
  it('refuses a POST body over the limit with 413 and a JSON-RPC error naming maxMessageBytes', async () => {
    const h = await hugeLineBridge(64 * 1024);
    const session = await openSession(h.url);
    const res = await post(
      h.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(100 * 1024) } } },
      { session },
    );
    expect(res.status).toBe(413);
    const body = (await res.json()) as JsonRpcReply;
    expect(body.error).toMatchObject({ code: -32000, data: { maxMessageBytes: 64 * 1024 } });
    expect(body.error?.message).toContain(`maxMessageBytes (${64 * 1024} bytes)`);
    expect(await toolText(await callTool(h.url, session, 'echo', { text: 'small is fine' }))).toBe('small is fine');
  });
});

/**
 * A remote MCP server that answers `tools/call huge {bytes, as}` with an answer of about `bytes`
 * bytes, written in 1 MiB pieces: `as` is json-length (with Content-Length), json-chunked or sse.
 * GET opens a stream with one huge event and then a small one. It notes whether each huge answer
 * was cut before it was all written.
 */
async function startHugeUpstream(): Promise<{ url: string; cut: boolean[]; close(): Promise<void> }> {
  const piece = Buffer.alloc(MiB, 'x');
  const cut: boolean[] = [];
  const writeAll = async (res: ServerResponse, parts: Array<string | number>): Promise<void> => {
    for (const part of parts) {
      const pieces =
        typeof part === 'string'
          ? [Buffer.from(part)]
          : Array.from({ length: Math.ceil(part / MiB) }, (_, i) => piece.subarray(0, Math.min(MiB, part - i * MiB)));
      for (const chunk of pieces) {
        if (res.destroyed) return;
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
      }
    }
  };
  const server = createServer(async (req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      await writeAll(res, ['data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"', 3 * MiB, '"}}\n\n']);
      res.write('data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"small"}}\n\n');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      id: number | string;
      params: { name: string; arguments: { bytes: number; as: string } };
    };
    const { bytes, as } = message.params.arguments;
    const head = '{"result":{"content":[{"type":"text","text":"';
    const tail = `"}]},"jsonrpc":"2.0","id":${JSON.stringify(message.id)}}`;
    res.once('close', () => cut.push(!res.writableFinished));
    if (as === 'sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      await writeAll(res, ['event: message\ndata: ', head, bytes, `${tail}\n\n`]);
    } else {
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(as === 'json-length' ? { 'content-length': String(head.length + bytes + tail.length) } : {}),
      });
      await writeAll(res, [head, bytes, tail]);
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    cut,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('maxMessageBytes: messages from a remote server', () => {
  it('is configurable for a remote server as servers.NAME.limits.maxMessageBytes, the only limit it takes', () => {
    expect(serverSchema.safeParse({ url: 'https://mcp.example.com/mcp', limits: { maxMessageBytes: LIMIT } }).success).toBe(true);
    expect(serverSchema.safeParse({ url: 'https://mcp.example.com/mcp', limits: { maxSessions: 3 } }).success).toBe(false);
  });

  let upstream: Awaited<ReturnType<typeof startHugeUpstream>>;
  let proxy: Bridge;
  let front: Server;
  let url: string;
  beforeAll(async () => {
    upstream = await startHugeUpstream();
    proxy = createRemoteProxy({ serverName: 'remote', url: upstream.url, logger: silentLogger(), maxMessageBytes: LIMIT });
    front = createServer((req, res) => {
      req.headers['x-user-sub'] = 'alice';
      void proxy.handle(req, res);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(front.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    await proxy.close();
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
    await upstream.close();
  });

  /** A tools/call with its id last, as the TypeScript SDK client writes it. */
  const hugeCall = (id: number | string, bytes: number, as: string, accept = BOTH) =>
    post(url, `{"method":"tools/call","params":{"name":"huge","arguments":{"bytes":${bytes},"as":"${as}"}},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`, {
      accept,
    });

  for (const as of ['json-length', 'json-chunked'] as const) {
    it(`answers an oversized JSON answer (${as}) with a JSON-RPC error for the request and cuts the upstream response`, async () => {
      const cutBefore = upstream.cut.length;
      const res = await hugeCall(`call-${as}`, 8 * LIMIT, as); // more than the loopback socket buffers hold, so a cut shows
      expect(res.status).toBe(200);
      const reply = (await res.json()) as JsonRpcReply;
      expect(reply).toMatchObject({ id: `call-${as}`, error: { code: -32603, data: { maxMessageBytes: LIMIT } } });
      await expect.poll(() => upstream.cut.slice(cutBefore)).toEqual([true]);
    });
  }

  it('answers a request whose SSE answer has an oversized event with a JSON-RPC error event, ends the stream and cuts upstream', async () => {
    const cutBefore = upstream.cut.length;
    const res = await hugeCall(41, 8 * LIMIT, 'sse');
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseEvents(res);
    expect(await events.message()).toMatchObject({ id: 41, error: { code: -32603, data: { maxMessageBytes: LIMIT } } });
    expect(await events.next()).toBeUndefined();
    await expect.poll(() => upstream.cut.slice(cutBefore)).toEqual([true]);
  });

  it('relays answers under the limit unchanged, as JSON and as SSE', async () => {
    const json = (await (await hugeCall(42, LIMIT - 1024, 'json-chunked')).json()) as JsonRpcReply;
    expect(json.result?.content[0]?.text.length).toBe(LIMIT - 1024);
    const sse = await sseEvents(await hugeCall(43, LIMIT - 1024, 'sse')).message();
    expect(sse?.['result'].content[0].text.length).toBe(LIMIT - 1024);
  });

  it('skips an oversized event on the GET stream and keeps relaying the events after it', async () => {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', 'x-user-sub': 'alice' } });
    const events = sseEvents(res);
    expect(await events.message()).toMatchObject({ method: 'notifications/message', params: { data: 'small' } });
    await events.cancel();
  });

  it('refuses a POST body over the limit with 413 naming maxMessageBytes', async () => {
    const res = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(LIMIT) } } });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: -32000, data: { maxMessageBytes: LIMIT } } });
  });
});

const BRIDGE_PROCESS = fileURLToPath(new URL('./fixtures/bridge-process.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/runtime/bridge/streamable-http-bridge.js', import.meta.url));

/** VmRSS and VmHWM (the peak) of a process, in MiB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
  return { rss: mib('VmRSS'), peak: mib('VmHWM') };
}

/**
 * Runs the bridge in a process of its own (bridge-process.mjs, from dist/), sends one tool call
 * whose answer is a `bytes`-long line, and follows that process's RSS for up to `settleMs` until
 * it is back within 20% of where it was before.
 *
 * What is measured after is not memory the gateway keeps: the splitter lets the gathered chunks
 * go the moment the limit is passed and drops the rest as it arrives. But what was let go (up to
 * maxMessageBytes of 64 KiB pipe-read ArrayBuffers) is garbage that V8 frees only at its next
 * major GC, and V8 starts one for external memory only past 64 MiB of it; an idle process waits
 * for V8's memory reducer (seen after about 13 s in `serve`, not within 45 s in this bare
 * process). Even then glibc keeps part of it: freeing the large blocks raises its trim threshold,
 * so freed heap below that is not handed back to the OS. With a 2 MiB limit the garbage is small
 * enough to be within 20% at once; at the 16 MiB default the test checks the bound that holds
 * whatever the GC does: the line is never held, and what is left is at most about the limit.
 * Before this change a 50 MB line was read whole (chunks, the joined Buffer, its string,
 * JSON.parse's copy, the response's copy): 92 -> 396 MiB in `serve`, back after 35 s.
 */
async function oversizedLineMemory(maxMessageBytes: number | undefined, bytes: number, settleMs: number) {
  const child = spawn(process.execPath, [BRIDGE_PROCESS, HUGE_LINE_SERVER, ...(maxMessageBytes === undefined ? [] : [String(maxMessageBytes)])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const match = /listening (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`bridge process exited (${code})`)));
    });
    const url = `http://127.0.0.1:${port}/mcp`;
    const session = await openSession(url);
    for (let i = 0; i < 20; i++) await toolText(await callTool(url, session, 'echo', { text: 'x'.repeat(1000) }));
    await sleep(1_500);
    const samples: number[] = [];
    for (let i = 0; i < 3; i++, await sleep(200)) samples.push(memoryOf(child.pid!).rss);
    const before = samples.sort((a, b) => a - b)[1]!;

    const started = Date.now();
    const res = await callTool(url, session, 'huge', { bytes }, { accept: 'application/json' });
    const reply = (await res.json()) as JsonRpcReply;
    const answeredMs = Date.now() - started;
    const { peak } = memoryOf(child.pid!);
    let after = memoryOf(child.pid!).rss;
    while (after > before * 1.2 && Date.now() - started < settleMs) {
      await sleep(500);
      after = memoryOf(child.pid!).rss;
    }
    const settledMs = Date.now() - started;
    const figures = { before: Math.round(before), peak: Math.round(peak), after: Math.round(after), answeredMs, settledMs };
    console.info(`oversized line of ${bytes} bytes, maxMessageBytes ${maxMessageBytes ?? 'default'}: RSS MiB ${JSON.stringify(figures)}`);
    expect(await toolText(await callTool(url, session, 'echo', { text: 'after' }))).toBe('after');
    return { reply, ...figures };
  } finally {
    child.kill('SIGTERM');
  }
}

describe('memory after an oversized message from the child', () => {
  it.skipIf(!existsSync(BUILT))('returns to within 20% of its level before a line just over a 2 MiB limit', async () => {
    const m = await oversizedLineMemory(LIMIT, LIMIT + MiB, 20_000);
    expect(m.reply.error).toMatchObject({ code: -32603 });
    expect(m.after, JSON.stringify(m)).toBeLessThanOrEqual(m.before * 1.2);
  });

  it.skipIf(!existsSync(BUILT))(
    'never holds a 50 MB line (150 MB on Node 22+) at the 16 MiB default: the peak stays below the line, and what is left is at most the limit',
    async () => {
      // Node 22 and 24 let more garbage (the line's chunks, read and dropped) pile up before a
      // collection: RSS rose 49 MiB for a 47.7 MiB line on Node 22. A line three times longer
      // tells holding it from that.
      const bytes = (NODE_MAJOR >= 22 ? 150 : 50) * 1000 * 1000;
      const m = await oversizedLineMemory(undefined, bytes, 5_000);
      expect(m.reply.error).toMatchObject({ code: -32603, data: { maxMessageBytes: 16 * MiB } });
      expect(m.answeredMs, JSON.stringify(m)).toBeLessThan(10_000);
      expect(m.peak - m.before, JSON.stringify(m)).toBeLessThan(bytes / MiB);
      // What is left: the limit, plus what glibc and V8 keep of it. Node 20 keeps at most 20 MiB more;
      // Node 22 and 24 keep more of the heap they grew (measured +27 to +49 MiB over `before` under
      // load in .ci/node-matrix), so there the bound is the peak's: never the whole line.
      const kept = NODE_MAJOR >= 22 ? bytes / MiB : 16 + 20;
      expect(m.after - m.before, JSON.stringify(m)).toBeLessThanOrEqual(kept);
    },
    60_000,
  );
});

// Regression: a 50 MB line from a child took the gateway from 82 to 431 MiB and it stayed at 355.
describe('memory of mcp-gateway serve after a 50 MB line at the 16 MiB default', () => {
  it('is back below its level before plus the line, seconds after the request failed cleanly', async () => {
    const dir = await makeTempDir('mcpgw-huge-');
    const publicUrl = `http://127.0.0.1:${await freePort()}`;
    let serve: ServeProcess | undefined;
    try {
      expect((await runCli(localInitArgs(dir, publicUrl))).code).toBe(0);
      expect((await runCli(['add-server', 'huge', '--dir', dir, '--command', `"${process.execPath}" "${HUGE_LINE_SERVER}"`])).code).toBe(0);
      const token = (await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'huge'])).stdout.trim().split('\n').at(-1)!;
      // Started once the project is complete (a serve started earlier races init and add-server).
      serve = new ServeProcess(['--dir', dir]);
      await serve.waitFor(/mcp-gateway is ready/);
      const url = `${publicUrl}/huge/mcp`;
      const headers = { authorization: `Bearer ${token}` };
      const init = await post(url, initializeRequest(), { headers, accept: 'application/json' });
      expect(init.status).toBe(200);
      const session = init.headers.get('mcp-session-id')!;
      await (await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { headers, session, version: '2025-06-18' })).text();
      for (let i = 0; i < 20; i++) await toolText(await callTool(url, session, 'echo', { text: 'x'.repeat(1000) }, { headers }));
      await sleep(1_500);
      const pid = serve.pid;
      const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
      const before = rss();
      const reply = (await (await callTool(url, session, 'huge', { bytes: 50 * 1000 * 1000 }, { headers, accept: 'application/json' })).json()) as JsonRpcReply;
      expect(reply.error).toMatchObject({ code: -32603, data: { maxMessageBytes: 16 * MiB } });
      // Less than the line above where it was: never holding it (the regression kept 273 MiB).
      // Within 20% held on a quiet machine; under CI's load Node 20 kept +25 MiB and Node 22 +37.
      const bound = before + (50 * 1000 * 1000) / MiB;
      await expect.poll(rss, { timeout: 15_000, interval: 250 }).toBeLessThanOrEqual(bound);
      expect(await toolText(await callTool(url, session, 'echo', { text: 'after' }, { headers }))).toBe('after');
    } finally {
      await serve?.stop();
      await removeTempDir(dir);
    }
  }, 60_000);
});
