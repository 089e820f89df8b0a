import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../runtime/logger.js';
import { buildChildEnv } from '../runtime/bridge/child-env.js';
import { LineSplitter } from '../runtime/bridge/line-splitter.js';
import { acceptable } from '../runtime/bridge/media-types.js';
import { createStdioBridge, type StdioLaunch } from '../runtime/bridge/streamable-http-bridge.js';
import type { Bridge } from '../runtime/bridge/bridge.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/echo-mcp-server.mjs', import.meta.url));

/** Like `npx`: the server we talk to starts a long-lived process of its own. */
const FAMILY_SERVER = String.raw`
const { spawn } = require('node:child_process');
const stubborn = process.env.STUBBORN === '1';
if (stubborn) {
  process.on('SIGTERM', () => {});
  setInterval(() => {}, 1000); // do not exit when stdin closes either
}
const grandchild = spawn(
  process.execPath,
  ['-e', (stubborn ? "process.on('SIGTERM', () => {});" : '') + "process.stdout.write('ready'); setInterval(() => {}, 1000)"],
  { stdio: ['ignore', 'pipe', 'ignore'] },
);
const ready = new Promise((resolve) => grandchild.stdout.once('data', resolve));
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const msg = JSON.parse(line);
  if (msg.method === 'initialize') {
    send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'family', version: '1' } } });
  } else if (msg.method === 'tools/call' && msg.params.name === 'family') {
    await ready; // the grandchild has its SIGTERM handler by now
    send({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: JSON.stringify({ pid: process.pid, grandchild: grandchild.pid }) }] } });
  } else if (msg.method === 'tools/call' && msg.params.name === 'last-words') {
    send({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: 'goodbye' }] } });
    grandchild.kill();
    process.exit(0);
  }
});
`;

interface Harness {
  bridge: Bridge;
  url: string;
  stop(): Promise<void>;
}

const running: Harness[] = [];

async function startBridge(launch: StdioLaunch): Promise<Harness> {
  const bridge = createStdioBridge({ serverName: 'test', launch, logger: silentLogger() });
  const server: Server = createServer((req, res) => void bridge.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const harness = {
    bridge,
    url: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      await bridge.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  running.push(harness);
  return harness;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((h) => h.stop()));
});

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-user-sub': 'alice' };

async function initialize(url: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
}

async function openSession(url: string): Promise<string> {
  const res = await initialize(url);
  expect(res.status).toBe(200);
  await res.text();
  return res.headers.get('mcp-session-id')!;
}

let nextId = 1;
async function toolText(url: string, session: string, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...HEADERS, 'mcp-session-id': session },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args } }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { result: { content: Array<{ text: string }> } };
  return body.result.content[0]!.text;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * For grandchildren: once our child is gone they are reparented to PID 1, and a killed one stays
 * a zombie until PID 1 reaps it (which this machine's init does only every second or so).
 */
function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('bridge child processes', () => {
  const parentOnly = 'BRIDGE_TEST_PARENT_ONLY';
  beforeAll(() => {
    process.env[parentOnly] = 'must-not-leak';
  });
  afterAll(() => {
    delete process.env[parentOnly];
  });

  it("gives the child its configured env and the allowlisted basics, but not the gateway's other variables", async () => {
    const h = await startBridge({ command: process.execPath, args: [FIXTURE], env: { FIXTURE_CONFIGURED: 'from-config' } });
    const session = await openSession(h.url);
    expect(await toolText(h.url, session, 'env', { name: 'FIXTURE_CONFIGURED' })).toBe('from-config');
    expect(await toolText(h.url, session, 'env', { name: parentOnly })).toBe('(unset)');
    expect(await toolText(h.url, session, 'env', { name: 'PATH' })).toBe(process.env['PATH']);
  });

  it('answers 502 naming the command when it cannot be spawned, and stays up', async () => {
    const h = await startBridge({ command: 'mcp-gateway-no-such-command', args: [], env: {} });
    const res = await initialize(h.url);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: string };
    expect(body.error).toContain('"mcp-gateway-no-such-command" not found');
    expect(h.bridge.sessionCount).toBe(0);
    expect((await initialize(h.url)).status).toBe(502);
  });

  it('close() terminates every child and refuses new sessions afterwards', async () => {
    const h = await startBridge({ command: process.execPath, args: [FIXTURE], env: {} });
    const pids = await Promise.all([1, 2].map(async () => Number(await toolText(h.url, await openSession(h.url), 'pid'))));
    expect(h.bridge.sessionCount).toBe(2);
    expect(pids.every(isAlive)).toBe(true);
    await h.bridge.close();
    expect(pids.some(isAlive)).toBe(false);
    expect(h.bridge.sessionCount).toBe(0);
    expect((await initialize(h.url)).status).toBe(503);
  });

  it('DELETE kills the whole process group, grandchildren included', async () => {
    const h = await startBridge({ command: process.execPath, args: ['-e', FAMILY_SERVER], env: {} });
    const session = await openSession(h.url);
    const { pid, grandchild } = JSON.parse(await toolText(h.url, session, 'family')) as { pid: number; grandchild: number };
    expect(isRunning(grandchild)).toBe(true);
    const res = await fetch(h.url, { method: 'DELETE', headers: { 'x-user-sub': 'alice', 'mcp-session-id': session } });
    expect(res.status).toBe(200);
    expect(isAlive(pid)).toBe(false);
    await expect.poll(() => isRunning(grandchild), { timeout: 3_000 }).toBe(false);
  });

  it('SIGKILLs a process group that ignores SIGTERM', async () => {
    const h = await startBridge({ command: process.execPath, args: ['-e', FAMILY_SERVER], env: { STUBBORN: '1' } });
    const session = await openSession(h.url);
    const { pid, grandchild } = JSON.parse(await toolText(h.url, session, 'family')) as { pid: number; grandchild: number };
    const started = Date.now();
    await h.bridge.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(isAlive(pid)).toBe(false);
    await expect.poll(() => isRunning(grandchild), { timeout: 3_000 }).toBe(false);
  });

  it('ends the session of a client that leaves before initialize is answered', async () => {
    // A server that never answers, so the client is sure to leave first.
    const h = await startBridge({ command: process.execPath, args: ['-e', 'process.stdin.resume()'], env: {} });
    const controller = new AbortController();
    const leaving = fetch(h.url, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
      signal: controller.signal,
    }).catch(() => undefined);
    await expect.poll(() => h.bridge.sessionCount).toBe(1);
    controller.abort();
    await leaving;
    await expect.poll(() => h.bridge.sessionCount).toBe(0);
  });

  it('delivers the answer a child writes just before exiting', async () => {
    const h = await startBridge({ command: process.execPath, args: ['-e', FAMILY_SERVER], env: {} });
    const session = await openSession(h.url);
    expect(await toolText(h.url, session, 'last-words')).toBe('goodbye');
    await expect.poll(() => h.bridge.sessionCount).toBe(0);
  });
});

describe('child env allowlist', () => {
  it('keeps PATH, HOME, LC_* and proxy variables in both cases, and drops everything else', () => {
    const env = buildChildEnv(
      { PATH: '/bin', HOME: '/h', LC_ALL: 'C', https_proxy: 'http://p', NO_PROXY: 'x', GITHUB_CLIENT_SECRET: 's', REDIS_URL: 'r' },
      { API_KEY: 'k', PATH: '/custom' },
    );
    expect(env).toEqual({ PATH: '/custom', HOME: '/h', LC_ALL: 'C', https_proxy: 'http://p', NO_PROXY: 'x', API_KEY: 'k' });
  });
});

describe('line framing', () => {
  function split(chunks: string[], maxLineBytes = 1024) {
    const lines: string[] = [];
    const overflows: string[] = [];
    const splitter = new LineSplitter({
      maxLineBytes,
      overflowEndBytes: 4,
      onLine: (l) => lines.push(l),
      onOverflow: ({ head, tail, bytes }) => overflows.push(`${head.toString()}..${tail.toString()} (${bytes})`),
    });
    for (const chunk of chunks) splitter.push(Buffer.from(chunk));
    splitter.end();
    return { lines, overflows };
  }

  it('joins lines split across chunks and strips CR', () => {
    expect(split(['{"a"', ':1}\r\n{"b":2}\n{"c"', ':3}']).lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps a multi-byte character split across chunks intact', () => {
    const bytes = Buffer.from('"é"\n');
    const lines: string[] = [];
    const splitter = new LineSplitter({ maxLineBytes: 100, onLine: (l) => lines.push(l), onOverflow: () => {} });
    splitter.push(bytes.subarray(0, 2));
    splitter.push(bytes.subarray(2));
    expect(lines).toEqual(['"é"']);
  });

  it('skips a line over the limit up to its newline and carries on, keeping only its ends and size', () => {
    const { lines, overflows } = split(['short\n', 'x'.repeat(8), 'y'.repeat(8), 'z\nnext\n'], 10);
    expect(lines).toEqual(['short', 'next']);
    expect(overflows).toEqual(['xxxx..yyyz (17)']);
  });

  it('reports an oversized last line without a newline at the end of the stream', () => {
    const { lines, overflows } = split(['ok\n', 'a'.repeat(12), 'bc'], 10);
    expect(lines).toEqual(['ok']);
    expect(overflows).toEqual(['aaaa..aabc (14)']);
  });
});

describe('Accept negotiation', () => {
  it('is lenient with wildcards and a missing header, and honours q=0', () => {
    expect(acceptable(undefined)).toEqual({ json: true, sse: true });
    expect(acceptable('*/*')).toEqual({ json: true, sse: true });
    expect(acceptable('application/json')).toEqual({ json: true, sse: false });
    expect(acceptable('text/event-stream')).toEqual({ json: false, sse: true });
    expect(acceptable('application/json;q=0, text/event-stream')).toEqual({ json: false, sse: true });
    expect(acceptable('text/html')).toEqual({ json: false, sse: false });
  });
});
