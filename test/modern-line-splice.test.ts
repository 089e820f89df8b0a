import { describe, expect, it } from 'vitest';
import { objectMembers } from '../runtime/bridge/modern/json-members.js';
import { modernResult, responseLine, splicedResultLine } from '../runtime/bridge/modern/modern-results.js';

const SERVER_INFO = { name: 'echo-fixture', version: '1.0.0' };
const SERVER_INFO_JSON = JSON.stringify(SERVER_INFO);

/** What the slow path (parse, spread, serialise) answers for the child's `line`. */
function slowLine(line: string, clientId: string | number, method: string, serverInfo: Record<string, unknown> | undefined): string {
  const { result } = JSON.parse(line) as { result: Record<string, unknown> };
  return responseLine(clientId, { result: modernResult(method, result, serverInfo) });
}

/** The spliced line must be JSON, and the same JSON (keys in the same order) as the slow path's. */
function expectSameAsSlowPath(
  line: string,
  clientId: string | number = 7,
  method = 'tools/call',
  serverInfo: Record<string, unknown> | undefined = SERVER_INFO,
) {
  const spliced = splicedResultLine(line, clientId, method, serverInfo === undefined ? undefined : JSON.stringify(serverInfo));
  expect(spliced).toBeDefined();
  expect(spliced).not.toMatch(/[\n]/);
  expect(JSON.stringify(JSON.parse(spliced!))).toBe(slowLine(line, clientId, method, serverInfo));
}

describe('splicedResultLine: a child answer as a 2026-07-28 response line without re-serialising it', () => {
  it('gives the slow path JSON for the line the SDK writes (result first)', () => {
    const line = '{"result":{"content":[{"type":"text","text":"hello"}]},"jsonrpc":"2.0","id":"mcpgw-1"}';
    expect(splicedResultLine(line, 5, 'tools/call', SERVER_INFO_JSON)).toBe(
      '{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"hello"}],"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-fixture","version":"1.0.0"}}}}',
    );
    expectSameAsSlowPath(line);
  });

  it('takes the members in any order and with whitespace anywhere JSON allows it', () => {
    expectSameAsSlowPath('{"jsonrpc":"2.0","id":"mcpgw-1","result":{"content":[]}}');
    expectSameAsSlowPath('{"id":3,"result":{"a":1},"jsonrpc":"2.0"}');
    expectSameAsSlowPath(' {\t"jsonrpc" : "2.0" ,\r "id" : 12 , "result" : { "a" : [ 1 , 2 ] , "b" : { } } } ');
  });

  it('adds the caching fields for the methods that need them, and an empty _meta without serverInfo', () => {
    const line = '{"result":{"tools":[]},"jsonrpc":"2.0","id":"mcpgw-2"}';
    for (const method of ['tools/list', 'resources/read', 'prompts/list', 'tools/call', 'completion/complete']) expectSameAsSlowPath(line, 1, method);
    expectSameAsSlowPath(line, 1, 'tools/list', undefined);
    expect(JSON.parse(splicedResultLine(line, 1, 'tools/list', undefined)!).result).toEqual({
      tools: [],
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'private',
      _meta: {},
    });
  });

  it('answers an empty result, spaced or not', () => {
    expectSameAsSlowPath('{"result":{},"jsonrpc":"2.0","id":"mcpgw-3"}');
    expectSameAsSlowPath('{"result":{ \t },"jsonrpc":"2.0","id":"mcpgw-3"}');
  });

  it('is not fooled by quotes, backslashes and braces inside strings', () => {
    const texts = ['"}', '\\', '\\"', 'a\\\\"b', '{"result":{"x":1}}', '},"resultType":"input_required","x":{', '\u2028\u2029', 'é😀', '\u0000\u001f'];
    for (const text of texts) {
      expectSameAsSlowPath(JSON.stringify({ result: { content: [{ type: 'text', text }], [`key ${plainKey(text)}`]: text }, jsonrpc: '2.0', id: 'mcpgw-4' }));
      // The same text with its non-ASCII escaped, as some servers write it.
      expectSameAsSlowPath(
        JSON.stringify({ jsonrpc: '2.0', id: 'mcpgw-4', result: { text } }).replace(
          /[^\x20-\x7e]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        ),
      );
    }
  });

  it('writes any client id as JSON: strings with escapes, numbers', () => {
    const line = '{"result":{"a":true,"b":null,"c":-1.5e3},"jsonrpc":"2.0","id":"mcpgw-5"}';
    for (const id of ['a"b', 'back\\slash', '\u2028', '', 0, -1, 2 ** 53 - 1, 1.5]) expectSameAsSlowPath(line, id);
  });

  it("keeps the child's numbers as written, as the 2025 session path does", () => {
    const spliced = splicedResultLine('{"result":{"big":12345678901234567890,"exp":1E2},"jsonrpc":"2.0","id":"mcpgw-6"}', 1, 'tools/call', undefined);
    expect(spliced).toContain('"big":12345678901234567890,"exp":1E2,');
    expect(JSON.parse(spliced!).result.exp).toBe(100);
  });

  it('leaves to the slow path a result that has a field the 2026-07-28 form sets', () => {
    for (const key of ['resultType', '_meta', 'ttlMs', 'cacheScope']) {
      expect(splicedResultLine(`{"result":{"a":1,"${key}":{}},"jsonrpc":"2.0","id":"mcpgw-7"}`, 1, 'tools/call', SERVER_INFO_JSON)).toBeUndefined();
    }
  });

  it('leaves to the slow path what is not exactly jsonrpc, id and an object result', () => {
    const refused = [
      '{"error":{"code":-32601,"message":"no"},"jsonrpc":"2.0","id":"mcpgw-8"}',
      '{"result":null,"jsonrpc":"2.0","id":"mcpgw-8"}',
      '{"result":[1],"jsonrpc":"2.0","id":"mcpgw-8"}',
      '{"result":"x","jsonrpc":"2.0","id":"mcpgw-8"}',
      '{"result":{"a":1},"jsonrpc":"2.0","id":"mcpgw-8","extra":{}}',
      '{"result":{"a":1},"result":{"b":2},"id":"mcpgw-8"}',
      '{"result":{"a":1},"jsonrpc":"2.0","jsonrpc":"2.0"}',
      '{"result":{"a":1,"a":2},"jsonrpc":"2.0","id":"mcpgw-8"}',
      // Keys written with escapes: `res\u0075lt` is `result`, `_met\u0061` is `_meta`.
      '{"res\\u0075lt":{"a":1},"jsonrpc":"2.0","id":"mcpgw-8"}',
      '{"result":{"_met\\u0061":{}},"jsonrpc":"2.0","id":"mcpgw-8"}',
      '{"result":{"a\\"b":1},"jsonrpc":"2.0","id":"mcpgw-8"}',
      '{"result":{"a":1},"jsonrpc":"2.0"}',
      // Never produced (lines are parsed first), but the scan must not run past the end.
      '{"result":{"a":1',
      '{"result":{"a":"1}},"jsonrpc":"2.0","id":"x"',
      '',
    ];
    for (const line of refused) expect(splicedResultLine(line, 1, 'tools/call', SERVER_INFO_JSON), line).toBeUndefined();
  });

  it('agrees with the slow path on random results', () => {
    const random = seeded(20261202);
    for (let i = 0; i < 2000; i++) {
      const result = randomObject(random, 0);
      for (const key of ['resultType', '_meta', 'ttlMs', 'cacheScope']) delete result[key];
      const members = [`"result":${JSON.stringify(result, null, random() < 0.2 ? ' ' : undefined).replace(/\n/g, '')}`, '"jsonrpc":"2.0"', `"id":"mcpgw-${i}"`];
      members.sort(() => random() - 0.5);
      expectSameAsSlowPath(`{${members.join(',')}}`, random() < 0.5 ? i : `c${i}`, random() < 0.5 ? 'tools/list' : 'tools/call');
    }
  });
});

describe('objectMembers', () => {
  it('finds every member of random objects, value text included', () => {
    const random = seeded(7);
    for (let i = 0; i < 2000; i++) {
      const value = randomObject(random, 0);
      const text = JSON.stringify(value, null, random() < 0.3 ? 2 : undefined);
      const span = objectMembers(text, 0);
      expect(span).toBeDefined();
      expect(span!.close).toBe(text.lastIndexOf('}'));
      expect(span!.members.map(({ key }) => key)).toEqual(Object.keys(value));
      for (const { key, start, end } of span!.members) expect(JSON.parse(text.slice(start, end))).toEqual(value[key]);
    }
  });
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Small deterministic PRNG (mulberry32): a failure names the same input on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = ['a', 'z', ' ', '"', '\\', '{', '}', '[', ']', ',', ':', '\n', '\u0001', 'é', '😀', '\u2028', '/'];

function randomString(random: () => number): string {
  let text = '';
  const length = Math.floor(random() * 6);
  for (let i = 0; i < length; i++) text += CHARS[Math.floor(random() * CHARS.length)];
  return text;
}

/** A key JSON.stringify writes without escapes (objectMembers gives up on escaped keys, by design). */
function plainKey(text: string): string {
  return [...text].filter((c) => c !== '"' && c !== '\\' && c >= ' ').join('');
}

function randomValue(random: () => number, depth: number): Json {
  const kind = Math.floor(random() * (depth > 3 ? 5 : 7));
  if (kind === 0) return null;
  if (kind === 1) return random() < 0.5;
  if (kind === 2) return Math.round((random() - 0.5) * 1e6) / (random() < 0.5 ? 1 : 1000);
  if (kind === 3 || kind === 4) return randomString(random);
  if (kind === 5) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  return randomObject(random, depth + 1);
}

function randomObject(random: () => number, depth: number): { [key: string]: Json } {
  const value: { [key: string]: Json } = {};
  const count = Math.floor(random() * 5);
  for (let i = 0; i < count; i++) value[random() < 0.8 ? `k${Math.floor(random() * 8)}` : plainKey(randomString(random))] = randomValue(random, depth);
  return value;
}
