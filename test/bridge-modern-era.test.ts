import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH, initializeRequest, openSession, post, sleep, sseEvents, startBridge, type BridgeHarness } from './helpers/bridge-harness.js';

const LIST_CHANGING_SERVER = fileURLToPath(new URL('./fixtures/list-changing-mcp-server.mjs', import.meta.url));
const MODERN_STDIO_SERVER = fileURLToPath(new URL('./fixtures/modern-stdio-server.mjs', import.meta.url));
const MODERN = '2026-07-28';
const SAMPLING = { sampling: {} };

interface ModernOptions {
  sub?: string;
  id?: number | string;
  capabilities?: Record<string, unknown>;
  headers?: Record<string, string>;
  meta?: Record<string, unknown>;
  accept?: string;
  signal?: AbortSignal;
  /** The MCP-Protocol-Version header, when not the body's version. */
  version?: string;
}

/** A 2026-07-28 request as the spec says a client sends it: headers mirror the body. */
function modernPost(url: string, method: string, params: Record<string, unknown> = {}, options: ModernOptions = {}): Promise<Response> {
  const name = method === 'resources/read' ? params['uri'] : method === 'tools/call' || method === 'prompts/get' ? params['name'] : undefined;
  const body = {
    jsonrpc: '2.0',
    id: options.id ?? 1,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN,
        'io.modelcontextprotocol/clientCapabilities': options.capabilities ?? {},
        'io.modelcontextprotocol/clientInfo': { name: 'modern-test', version: '1.0.0' },
        ...options.meta,
      },
    },
  };
  return post(url, body, {
    sub: options.sub ?? 'alice',
    version: options.version ?? MODERN,
    ...(options.accept === undefined ? {} : { accept: options.accept }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    headers: { 'mcp-method': method, ...(typeof name === 'string' ? { 'mcp-name': name } : {}), ...options.headers },
  });
}

async function resultOf(res: Response): Promise<Record<string, any>> {
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    const events = sseEvents(res);
    for (;;) {
      const message = await events.message();
      if (message === undefined) throw new Error('stream ended without a response');
      if ('result' in message || 'error' in message) return message;
    }
  }
  return (await res.json()) as Record<string, any>;
}

const textOf = (reply: Record<string, any>): string => reply['result'].content[0].text;

describe('2026-07-28 clients on a 2025 stdio server', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge({ requestTimeoutMs: 20_000 });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers server/discover from the child: the modern version, its capabilities and serverInfo', async () => {
    const res = await modernPost(h.url, 'server/discover');
    expect(res.status).toBe(200);
    const reply = await resultOf(res);
    expect(reply).toMatchObject({
      id: 1,
      result: {
        resultType: 'complete',
        supportedVersions: [MODERN],
        capabilities: { tools: {} },
        ttlMs: 0,
        cacheScope: 'private',
        _meta: { 'io.modelcontextprotocol/serverInfo': { name: expect.any(String) } },
      },
    });
    expect(res.headers.get('mcp-session-id')).toBeNull();
  });

  it('lists and calls tools statelessly, with resultType and the caching fields', async () => {
    const list = await resultOf(await modernPost(h.url, 'tools/list', {}, { id: 'a' }));
    expect(list).toMatchObject({ id: 'a', result: { resultType: 'complete', ttlMs: 0, cacheScope: 'private' } });
    expect(list['result'].tools.map((tool: { name: string }) => tool.name)).toContain('echo');
    const call = await resultOf(await modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'héllo' } }, { id: 2 }));
    expect(call).toMatchObject({ id: 2, result: { resultType: 'complete' } });
    expect(textOf(call)).toBe('héllo');
  });

  it('ignores Mcp-Session-Id and serves 2025 sessions on the same endpoint at the same time', async () => {
    const session = await openSession(h.url, { version: '2025-11-25' });
    const modern = await resultOf(
      await modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'modern' } }, { headers: { 'mcp-session-id': session } }),
    );
    expect(textOf(modern)).toBe('modern');
    const legacy = await post(
      h.url,
      { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: 'legacy' } } },
      { session, version: '2025-11-25' },
    );
    expect(textOf(await resultOf(legacy))).toBe('legacy');
  });

  it('runs one user on their own children, never on another user', async () => {
    const pid = async (sub: string) => Number(textOf(await resultOf(await modernPost(h.url, 'tools/call', { name: 'pid' }, { sub }))));
    const alice = await pid('alice');
    expect(await pid('alice')).toBe(alice);
    expect(await pid('bob')).not.toBe(alice);
  });

  it('relays progress on the SSE response with the client token', async () => {
    const res = await modernPost(h.url, 'tools/call', { name: 'slow', arguments: { steps: 3, delayMs: 20 } }, { meta: { progressToken: 'mine' } });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseEvents(res);
    const progress: unknown[] = [];
    for (;;) {
      const message = (await events.message())!;
      if (message['method'] === 'notifications/progress') progress.push(message['params'].progressToken);
      else {
        expect(textOf(message)).toBe('done after 3 steps');
        break;
      }
    }
    expect(progress).toEqual(['mine', 'mine', 'mine']);
  });

  describe('multi-round-trip requests (sampling, elicitation)', () => {
    const sampling = { sampling: {} };

    async function askSample(sub = 'alice', id: number | string = 10) {
      const reply = await resultOf(
        await modernPost(h.url, 'tools/call', { name: 'sample', arguments: { prompt: 'the answer?' } }, { sub, id, capabilities: sampling }),
      );
      expect(reply['result']).toMatchObject({ resultType: 'input_required', requestState: expect.any(String) });
      const [key, input] = Object.entries(reply['result'].inputRequests as Record<string, { method: string; params: any }>)[0]!;
      return { key, input, state: reply['result'].requestState as string };
    }
    const sampled = { role: 'assistant', content: { type: 'text', text: 'sampled: 42' }, model: 'test-model' };
    const retry = (
      state: string,
      inputResponses: Record<string, unknown>,
      options: ModernOptions = {},
      args: Record<string, unknown> = { prompt: 'the answer?' },
    ) =>
      modernPost(h.url, 'tools/call', { name: 'sample', arguments: args, inputResponses, requestState: state }, { capabilities: sampling, id: 11, ...options });

    it("turns the child's sampling/createMessage into input_required, and the retry's answer completes the call", async () => {
      const { key, input, state } = await askSample();
      expect(input.method).toBe('sampling/createMessage');
      expect(input.params.messages[0].content.text).toBe('the answer?');
      const done = await resultOf(await retry(state, { [key]: sampled }));
      expect(done).toMatchObject({ id: 11, result: { resultType: 'complete' } });
      expect(textOf(done)).toBe('sampled: 42');
    });

    it("turns elicitation/create into input_required and delivers the client's content", async () => {
      const capabilities = { elicitation: { form: {} } };
      const first = await resultOf(await modernPost(h.url, 'tools/call', { name: 'elicit', arguments: { message: 'who?' } }, { capabilities }));
      const [key, input] = Object.entries(first['result'].inputRequests as Record<string, { method: string }>)[0]!;
      expect(input.method).toBe('elicitation/create');
      const done = await resultOf(
        await modernPost(
          h.url,
          'tools/call',
          {
            name: 'elicit',
            arguments: { message: 'who?' },
            inputResponses: { [key]: { action: 'accept', content: { name: 'Ada' } } },
            requestState: first['result'].requestState,
          },
          { capabilities, id: 2 },
        ),
      );
      expect(JSON.parse(textOf(done))).toEqual({ action: 'accept', content: { name: 'Ada' } });
    });

    it('asks again when the retry leaves the input unanswered, and ignores unknown keys', async () => {
      const { key, state } = await askSample();
      const again = await resultOf(await retry(state, { 'not-asked': sampled }));
      expect(again['result']).toMatchObject({ resultType: 'input_required', inputRequests: { [key]: { method: 'sampling/createMessage' } } });
      expect(textOf(await resultOf(await retry(again['result'].requestState, { [key]: sampled }, { id: 12 })))).toBe('sampled: 42');
    });

    it('refuses a tampered, replayed, other-user or other-request state with 400 -32602, never a 5xx', async () => {
      const { key, state } = await askSample();
      const tampered = `${state.slice(0, -4)}${state.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      for (const [label, res] of [
        ['tampered', await retry(tampered, { [key]: sampled })],
        ['garbage', await retry('not-a-state', { [key]: sampled })],
        ['huge', await retry('x'.repeat(100_000), { [key]: sampled })],
        ['not a string', await retry({ nested: [1, 2] } as unknown as string, { [key]: sampled })],
        ["bob's", await retry(state, { [key]: sampled }, { sub: 'bob' })],
        ['other arguments', await retry(state, { [key]: sampled }, {}, { prompt: 'something else' })],
      ] as const) {
        expect(res.status, label).toBe(400);
        expect((await res.json()) as Record<string, any>, label).toMatchObject({ error: { code: -32602 } });
      }
      // Still waiting for alice's real answer after all that.
      expect(textOf(await resultOf(await retry(state, { [key]: sampled })))).toBe('sampled: 42');
      const replay = await retry(state, { [key]: sampled }, { id: 99 });
      expect(replay.status).toBe(400);
      expect(await replay.json()).toMatchObject({ error: { code: -32602, message: expect.stringContaining('no longer waiting') } });
    });

    it('answers 400 -32021 naming the capability when the server asks for input the client did not declare', async () => {
      const res = await modernPost(h.url, 'tools/call', { name: 'sample', arguments: { prompt: 'x' } }, { capabilities: {} });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32021, data: { requiredCapabilities: { sampling: {} } } } });
      // The child's call was cancelled: the next call of this user runs at once.
      expect(textOf(await resultOf(await modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'after' } })))).toBe('after');
    });

    it('refuses requestState on a request that cannot take input', async () => {
      const { state } = await askSample();
      const res = await modernPost(h.url, 'tools/list', { requestState: state });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32602 } });
    });
  });

  it('cancels the call when the client closes its response stream: the child is free for the next call at once', async () => {
    const pidOf = async () => Number(textOf(await resultOf(await modernPost(h.url, 'tools/call', { name: 'pid' }, { sub: 'carol' }))));
    const pid = await pidOf();
    const abort = new AbortController();
    const slow = modernPost(
      h.url,
      'tools/call',
      { name: 'slow', arguments: { steps: 100, delayMs: 100 } },
      { sub: 'carol', signal: abort.signal, meta: { progressToken: 1 } },
    );
    const res = await slow;
    await sleep(150);
    abort.abort();
    await res.body?.cancel().catch(() => {});
    await sleep(100);
    // A call that may ask for input needs a child with none running: the same child means the slow one was cancelled.
    expect(await pidOf()).toBe(pid);
  });
});

describe('2026-07-28 requests the spec says a server refuses', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge();
  });
  afterAll(async () => {
    await h.stop();
  });

  const cases: Array<[string, () => Promise<Response>, number, number]> = [];
  const add = (label: string, send: () => Promise<Response>, status: number, code: number) =>
    cases.push([`${label}: HTTP ${status} with JSON-RPC ${code}`, send, status, code]);
  add('no Mcp-Method header', () => modernPost(h.url, 'tools/list', {}, { headers: { 'mcp-method': '' } }), 400, -32020);
  add('Mcp-Method naming another method', () => modernPost(h.url, 'tools/list', {}, { headers: { 'mcp-method': 'tools/call' } }), 400, -32020);
  add(
    'no Mcp-Name on tools/call',
    () => modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { headers: { 'mcp-name': '' } }),
    400,
    -32020,
  );
  add(
    'Mcp-Name naming another tool',
    () => modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { headers: { 'mcp-name': 'pid' } }),
    400,
    -32020,
  );
  add(
    'Mcp-Name in broken base64',
    () => modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { headers: { 'mcp-name': '=?base64?!!!?=' } }),
    400,
    -32020,
  );
  add('MCP-Protocol-Version not matching _meta', () => modernPost(h.url, 'tools/list', {}, { version: '2025-11-25' }), 400, -32020);
  add(
    'no _meta',
    () => post(h.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { version: MODERN, headers: { 'mcp-method': 'tools/list' } }),
    400,
    -32602,
  );
  add('no clientCapabilities', () => modernPost(h.url, 'tools/list', {}, { meta: { 'io.modelcontextprotocol/clientCapabilities': undefined } }), 400, -32602);
  add('oversized clientCapabilities', () => modernPost(h.url, 'tools/list', {}, { capabilities: { experimental: { junk: 'x'.repeat(20_000) } } }), 400, -32602);
  add(
    'oversized clientInfo',
    () => modernPost(h.url, 'tools/list', {}, { meta: { 'io.modelcontextprotocol/clientInfo': { name: 'x'.repeat(10_000), version: '1' } } }),
    400,
    -32602,
  );
  add(
    '_meta that is a string',
    () => post(h.url, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: 'x' } }, { version: MODERN, headers: { 'mcp-method': 'tools/list' } }),
    400,
    -32602,
  );
  add(
    'params that are an array',
    () => post(h.url, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: [1] }, { version: MODERN, headers: { 'mcp-method': 'tools/list' } }),
    400,
    -32602,
  );
  add(
    'a non-ASCII tool name sent plain in Mcp-Name',
    () => modernPost(h.url, 'tools/call', { name: 'échо', arguments: {} }, { headers: { 'mcp-name': 'echo' } }),
    400,
    -32020,
  );
  add('a tools/call without a name', () => modernPost(h.url, 'tools/call', { arguments: {} }, { headers: { 'mcp-name': 'echo' } }), 400, -32602);
  add(
    'a body version the header does not name',
    () => modernPost(h.url, 'tools/list', {}, { meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } }),
    400,
    -32020,
  );
  add(
    'an unsupported version in _meta',
    () => modernPost(h.url, 'tools/list', {}, { meta: { 'io.modelcontextprotocol/protocolVersion': '1900-01-01' }, version: '1900-01-01' }),
    400,
    -32022,
  );
  add('initialize', () => modernPost(h.url, 'initialize', initializeRequest('2025-11-25').params), 404, -32601);
  add('ping', () => modernPost(h.url, 'ping'), 404, -32601);
  add('logging/setLevel', () => modernPost(h.url, 'logging/setLevel', { level: 'info' }), 404, -32601);
  add('resources/subscribe', () => modernPost(h.url, 'resources/subscribe', { uri: 'x://y' }), 404, -32601);
  add(
    'a batch',
    () => post(h.url, [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }], { version: MODERN, headers: { 'mcp-method': 'tools/list' } }),
    400,
    -32600,
  );
  add('inputResponses on tools/list', () => modernPost(h.url, 'tools/list', { inputResponses: {} }), 400, -32602);

  it.each(cases)('%s, before any child runs', async (_label, send, status, code) => {
    const before = h.bridge.sessionCount;
    const res = await send();
    expect(res.status).toBe(status);
    expect((await res.json()) as Record<string, any>).toMatchObject({ error: { code } });
    expect(h.bridge.sessionCount).toBe(before);
  });

  it('lists the supported versions with -32022', async () => {
    const res = await modernPost(h.url, 'tools/list', {}, { meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }, version: '2099-01-01' });
    expect(await res.json()).toMatchObject({ error: { code: -32022, data: { supported: [MODERN], requested: '2099-01-01' } } });
  });

  it('accepts an Mcp-Name in the base64 form', async () => {
    const res = await modernPost(
      h.url,
      'tools/call',
      { name: 'echo', arguments: { text: 'b64' } },
      { headers: { 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` } },
    );
    expect(textOf(await resultOf(res))).toBe('b64');
  });

  it.each(['GET', 'DELETE'])('answers %s with 405', async (method) => {
    const res = await fetch(h.url, { method, headers: { 'x-user-sub': 'alice', 'mcp-protocol-version': MODERN, accept: BOTH } });
    expect(res.status).toBe(405);
  });

  it('accepts a client notification with 202', async () => {
    const res = await post(
      h.url,
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } } },
      { version: MODERN },
    );
    expect(res.status).toBe(202);
  });
});

describe('subscriptions/listen', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge({ launch: { command: process.execPath, args: [LIST_CHANGING_SERVER], env: {} } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('acknowledges, then delivers tool list changes and updates of subscribed resources, tagged with the listen id', async () => {
    const abort = new AbortController();
    const res = await modernPost(
      h.url,
      'subscriptions/listen',
      { notifications: { toolsListChanged: true, promptsListChanged: true, resourceSubscriptions: ['note://a'] } },
      { id: 'listen-1', signal: abort.signal },
    );
    expect(res.status).toBe(200);
    const events = sseEvents(res);
    const ack = (await events.message())!;
    expect(ack).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
      params: {
        _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-1' },
        notifications: { toolsListChanged: true, resourceSubscriptions: ['note://a'] },
      },
    });
    expect(ack['params'].notifications.promptsListChanged).toBeUndefined(); // the server has no prompts
    expect(textOf(await resultOf(await modernPost(h.url, 'tools/call', { name: 'grow' }, { id: 2 })))).toBe('grown-1');
    expect(await events.message()).toMatchObject({
      method: 'notifications/tools/list_changed',
      params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-1' } },
    });
    await resultOf(await modernPost(h.url, 'tools/call', { name: 'touch', arguments: { uri: 'note://other' } }, { id: 3 }));
    await resultOf(await modernPost(h.url, 'tools/call', { name: 'touch', arguments: { uri: 'note://a' } }, { id: 4 }));
    expect(await events.message()).toMatchObject({ method: 'notifications/resources/updated', params: { uri: 'note://a' } });
    abort.abort();
    await events.cancel();
  });

  it("never delivers one user's notifications to another user", async () => {
    const abort = new AbortController();
    const res = await modernPost(h.url, 'subscriptions/listen', { notifications: { toolsListChanged: true } }, { sub: 'bob', signal: abort.signal });
    const events = sseEvents(res);
    await events.message(); // the acknowledgement
    await resultOf(await modernPost(h.url, 'tools/call', { name: 'grow' }, { sub: 'alice', id: 5 }));
    const next = await Promise.race([events.message(), sleep(500).then(() => 'nothing')]);
    expect(next).toBe('nothing');
    abort.abort();
    await events.cancel();
  });

  it('refuses a malformed filter with 400 and a listen without SSE with 406', async () => {
    expect((await modernPost(h.url, 'subscriptions/listen', { notifications: { toolsListChanged: 'yes' } })).status).toBe(400);
    expect((await modernPost(h.url, 'subscriptions/listen', {})).status).toBe(400);
    expect((await modernPost(h.url, 'subscriptions/listen', { notifications: { resourceSubscriptions: new Array(500).fill('x://y') } })).status).toBe(400);
    expect((await modernPost(h.url, 'subscriptions/listen', { notifications: {} }, { accept: 'application/json' })).status).toBe(406);
  });
});

describe('limits on the children of 2026-07-28 clients', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge({ maxSessionsPerUser: 1, maxSessions: 2 });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('gives a user at most maxSessionsPerUser children and the server at most maxSessions: 503 with Retry-After beyond', async () => {
    const slow = (sub: string, signal: AbortSignal) =>
      modernPost(
        h.url,
        'tools/call',
        { name: 'slow', arguments: { steps: 50, delayMs: 100 } },
        { sub, signal, meta: { progressToken: 1 }, capabilities: SAMPLING },
      );
    const abort = new AbortController();
    const first = await slow('alice', abort.signal);
    expect(first.status).toBe(200);
    // A second call that may ask for input (its client can sample) needs a second child: over alice's limit.
    const second = await modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { sub: 'alice', capabilities: SAMPLING });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(await second.json()).toMatchObject({ error: { message: expect.stringContaining('too many requests') } });
    // Lists share the busy child.
    expect((await resultOf(await modernPost(h.url, 'tools/list', {}, { sub: 'alice', capabilities: SAMPLING })))['result'].tools.length).toBeGreaterThan(0);
    const bob = await slow('bob', abort.signal);
    expect(bob.status).toBe(200);
    const carol = await modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { sub: 'carol', capabilities: SAMPLING });
    expect(carol.status).toBe(503);
    abort.abort();
    await Promise.all([first.body?.cancel().catch(() => {}), bob.body?.cancel().catch(() => {})]);
  });
});

describe('calls of a client that can give no input', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge({ maxSessionsPerUser: 1 });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('share one child, since it was not told it may ask', async () => {
    const abort = new AbortController();
    const slow = await modernPost(
      h.url,
      'tools/call',
      { name: 'slow', arguments: { steps: 50, delayMs: 100 } },
      { signal: abort.signal, meta: { progressToken: 1 } },
    );
    expect(slow.status).toBe(200);
    const calls = await Promise.all(['a', 'b', 'c'].map((text) => modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text } })));
    expect(await Promise.all(calls.map(async (res) => textOf(await resultOf(res))))).toEqual(['a', 'b', 'c']);
    abort.abort();
    await slow.body?.cancel().catch(() => {});
  });
});

describe('a user at the limit with a call that waits for input', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge({ maxSessionsPerUser: 1 });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('gives up the oldest call that waits for input to serve a new one, and refuses its state after', async () => {
    const capabilities = { sampling: {}, elicitation: {} };
    const first = await resultOf(await modernPost(h.url, 'tools/call', { name: 'sample', arguments: { prompt: 'p' } }, { capabilities, id: 1 }));
    expect(first['result'].resultType).toBe('input_required');
    // The only child runs the waiting call; the new call needs it.
    const second = await resultOf(await modernPost(h.url, 'tools/call', { name: 'elicit', arguments: { message: 'm' } }, { capabilities, id: 2 }));
    expect(second['result'].resultType).toBe('input_required');
    const [key] = Object.keys(first['result'].inputRequests as object);
    const late = await modernPost(
      h.url,
      'tools/call',
      {
        name: 'sample',
        arguments: { prompt: 'p' },
        inputResponses: { [key!]: { role: 'assistant', content: { type: 'text', text: 'x' }, model: 'm' } },
        requestState: first['result'].requestState,
      },
      { capabilities, id: 3 },
    );
    expect(late.status).toBe(400);
    expect(await late.json()).toMatchObject({ error: { code: -32602, message: expect.stringContaining('no longer waiting') } });
  });
});

describe('a stdio server that speaks 2026-07-28 itself', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge({ launch: { command: process.execPath, args: [MODERN_STDIO_SERVER], env: {} } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it("is driven natively: its own discover and results, its own input_required and requestState, the client's ids", async () => {
    const discover = await resultOf(await modernPost(h.url, 'server/discover', {}, { id: 'd' }));
    expect(discover).toMatchObject({ id: 'd', result: { supportedVersions: ['2026-07-28'], cacheScope: 'public' } });
    expect(textOf(await resultOf(await modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'native' } }, { id: 5 })))).toBe('native');
    const asked = await resultOf(await modernPost(h.url, 'tools/call', { name: 'ask' }, { id: 6, capabilities: { elicitation: {} } }));
    expect(asked).toMatchObject({
      id: 6,
      result: { resultType: 'input_required', requestState: 'own-state', inputRequests: { who: { method: 'elicitation/create' } } },
    });
    const done = await resultOf(
      await modernPost(
        h.url,
        'tools/call',
        { name: 'ask', inputResponses: { who: { action: 'accept', content: { name: 'Ada' } } }, requestState: 'own-state' },
        { id: 7 },
      ),
    );
    expect(textOf(done)).toBe('hello Ada');
  });

  it("relays progress with the client's token, and keeps users on their own children", async () => {
    const res = await modernPost(h.url, 'tools/call', { name: 'echo', arguments: { text: 'p' } }, { meta: { progressToken: 'tok' } });
    const events = sseEvents(res);
    expect(await events.message()).toMatchObject({ method: 'notifications/progress', params: { progressToken: 'tok' } });
    expect(textOf((await events.message())!)).toBe('p');
    const pid = async (sub: string) => textOf(await resultOf(await modernPost(h.url, 'tools/call', { name: 'pid' }, { sub })));
    expect(await pid('alice')).not.toBe(await pid('bob'));
  });

  it('still refuses what the spec says before the server sees it', async () => {
    const res = await modernPost(h.url, 'tools/call', { name: 'echo', arguments: {} }, { headers: { 'mcp-name': 'pid' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32020 } });
  });
});
