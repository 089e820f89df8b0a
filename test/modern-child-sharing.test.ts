import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childProcesses, post, startBridge, type BridgeHarness } from './helpers/bridge-harness.js';

const MODERN = '2026-07-28';

function echoCall(url: string, id: number, capabilities: Record<string, unknown> = {}): Promise<Response> {
  const body = {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: 'echo',
      arguments: { text: `call ${id}` },
      _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': capabilities },
    },
  };
  return post(url, body, { version: MODERN, headers: { 'mcp-method': 'tools/call', 'mcp-name': 'echo' } });
}

describe('a burst of first 2026-07-28 calls of one user', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge({ maxSessionsPerUser: 1 });
  });
  afterAll(async () => {
    await h.stop();
  });

  // Every call of the burst used to start a child of its own (the first had not started when the
  // others looked): a child per call in flight, each serving one call at a time, and past
  // maxSessionsPerUser a 503 for calls that could have shared the first.
  it('shares the one child being started instead of starting one per call', async () => {
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => echoCall(h.url, i + 1)));
    expect(replies.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const bodies = await Promise.all(replies.map(async (res) => (await res.json()) as { id: number; result: { content: Array<{ text: string }> } }));
    expect(bodies.map(({ id, result }) => [id, result.content[0]!.text])).toEqual(Array.from({ length: 6 }, (_, i) => [i + 1, `call ${i + 1}`]));
    // The era probe's child (this fixture speaks 2025) may still be on its way out.
    await expect.poll(() => childProcesses().length, { timeout: 5_000 }).toBe(1);
  });

  it('still gives a call that may ask for input a child of its own: 503 at the limit', async () => {
    const sampling = { sampling: {} };
    const replies = await Promise.all([echoCall(h.url, 10, sampling), echoCall(h.url, 11, sampling)]);
    // Other capabilities: the idle child of the first test makes room for one; the second is over the limit.
    expect(replies.map((res) => res.status).sort()).toEqual([200, 503]);
  });
});
