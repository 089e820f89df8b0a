import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callTool,
  initializeRequest,
  isAlive,
  openSession,
  post,
  bridgesStoppedAfterEach,
  type startBridge,
  toolText,
  type BridgeHarness,
} from './helpers/bridge-harness.js';

/**
 * Records what it receives: tool `received` returns the methods in order and the initialize
 * params it was given; `pid` its process id. Appends its pid to $STARTS when it starts.
 */
const RECORDER = String.raw`
const fs = require('node:fs');
if (process.env.STARTS) fs.appendFileSync(process.env.STARTS, process.pid + '\n');
const methods = [];
let init;
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = JSON.parse(line);
  if (msg.method) methods.push(msg.method);
  if (msg.method === 'initialize') {
    init = msg.params;
    return send({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'recorder', version: '1' } } });
  }
  if (msg.method === 'tools/call') {
    const text = msg.params.name === 'pid' ? String(process.pid) : JSON.stringify({ methods, init });
    return send({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text }] } });
  }
});
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpgw-pool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const startStopped = bridgesStoppedAfterEach();
function bridge(options: Parameters<typeof startBridge>[0], starts?: string): Promise<BridgeHarness> {
  return startStopped({ launch: { command: process.execPath, args: ['-e', RECORDER], env: starts ? { STARTS: starts } : {} }, ...options });
}

async function received(
  h: BridgeHarness,
  session: string,
): Promise<{ methods: string[]; init: { protocolVersion: string; capabilities: object; clientInfo: { name: string } } }> {
  return JSON.parse(await toolText(await callTool(h.url, session, 'received')));
}

const warmCount = async (h: BridgeHarness) => Number(/^(\d+) warm/.exec((await h.bridge.health()).detail)?.[1] ?? 0);

describe('warm pool', () => {
  it("answers the client's initialize from a pre-initialized child, under the client's request id, and swallows its notifications/initialized", async () => {
    const h = await bridge({ pool: 2 });
    await expect.poll(() => warmCount(h), { timeout: 5_000 }).toBe(2);
    const res = await post(h.url, initializeRequest('2025-11-25', {}, 'client-init-1'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 'client-init-1',
      result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'recorder', version: '1' } },
    });
    const session = res.headers.get('mcp-session-id')!;
    expect((await post(h.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { session })).status).toBe(202);
    const seen = await received(h, session);
    expect(seen.methods).toEqual(['initialize', 'notifications/initialized', 'tools/call']);
    // The child was initialized by the pool, before this client came: with the pool's clientInfo.
    expect(seen.init).toMatchObject({ protocolVersion: '2025-11-25', clientInfo: { name: 'mcp-gateway' } });
    await expect.poll(() => warmCount(h), { timeout: 5_000 }).toBe(2); // refilled
  });

  it('spawns a fresh child for a client asking for other capabilities or another version, then adapts to that client', async () => {
    const h = await bridge({ pool: 1 });
    await expect.poll(() => warmCount(h), { timeout: 5_000 }).toBe(1);
    const sampling = { sampling: {}, roots: { listChanged: true } };
    const first = await openSession(h.url, { version: '2025-06-18', capabilities: sampling });
    const own = await received(h, first);
    expect(own.init).toMatchObject({ protocolVersion: '2025-06-18', capabilities: sampling, clientInfo: { name: 'bridge-test' } });
    // The pool now initializes children as that client did; the next such client gets one warm.
    await expect.poll(() => warmCount(h), { timeout: 5_000 }).toBe(1);
    const second = await openSession(h.url, { version: '2025-06-18', capabilities: { roots: { listChanged: true }, sampling: {} } });
    const warm = await received(h, second);
    expect(warm.methods).toEqual(['initialize', 'notifications/initialized', 'tools/call']);
    expect(warm.init).toMatchObject({ protocolVersion: '2025-06-18', capabilities: sampling });
    expect(Number(await toolText(await callTool(h.url, second, 'pid')))).not.toBe(Number(await toolText(await callTool(h.url, first, 'pid'))));
  });

  it('stops its idle children on close', async () => {
    const starts = join(dir, 'pool-close.pids');
    const h = await bridge({ pool: 2 }, starts);
    await expect.poll(() => warmCount(h), { timeout: 5_000 }).toBe(2);
    const pids = (await readFile(starts, 'utf8')).trim().split('\n').map(Number);
    await h.bridge.close();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('server health', () => {
  it('reuses one cached probe: many health checks start one child, which does not stay', async () => {
    const starts = join(dir, 'health.pids');
    const h = await bridge({}, starts);
    const results = await Promise.all(Array.from({ length: 5 }, () => h.bridge.health()));
    for (let i = 0; i < 5; i++) results.push(await h.bridge.health());
    expect(results.every((r) => r.ok && r.detail === 'answered initialize (recorder 1)')).toBe(true);
    const pids = (await readFile(starts, 'utf8')).trim().split('\n').map(Number);
    expect(pids).toHaveLength(1);
    await expect.poll(() => isAlive(pids[0]!)).toBe(false);
    expect(h.bridge.sessionCount).toBe(0);
  });

  it('reports a server that cannot start, and one that never answers initialize', async () => {
    const missing = await bridge({ launch: { command: 'mcp-gateway-no-such-command', args: [], env: {} } });
    expect(await missing.bridge.health()).toMatchObject({ ok: false, detail: expect.stringContaining('not found') });
    // The probe has its own timeout (not the 60 s initialize timeout), and nobody waits for it longer than 800 ms.
    const mute = await bridge({ launch: { command: process.execPath, args: ['-e', 'process.stdin.resume()'], env: {} }, healthProbeTimeoutMs: 300 });
    expect(await mute.bridge.health()).toEqual({ ok: false, detail: 'the server did not answer initialize within 300 ms' });
    const hung = await bridge({ launch: { command: process.execPath, args: ['-e', 'process.stdin.resume()'], env: {} }, healthProbeTimeoutMs: 3_000 });
    const started = performance.now();
    expect(await hung.bridge.health()).toEqual({ ok: false, detail: expect.stringMatching(/^no answer to initialize yet/) });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('answers from a ready warm pool without starting a probe', async () => {
    const starts = join(dir, 'pool-health.pids');
    const h = await bridge({ pool: 1 }, starts);
    await expect.poll(() => warmCount(h), { timeout: 5_000 }).toBe(1);
    const before = (await readFile(starts, 'utf8')).trim().split('\n').length;
    for (let i = 0; i < 5; i++) expect(await h.bridge.health()).toEqual({ ok: true, detail: '1 warm server process(es) ready' });
    expect((await readFile(starts, 'utf8')).trim().split('\n')).toHaveLength(before);
  });
});
