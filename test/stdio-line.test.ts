import { describe, expect, it } from 'vitest';
import { stdioLine } from '../runtime/bridge/stdio-line.js';

describe('stdioLine', () => {
  it('leaves a line without U+2028 or U+2029 as it is (the same string)', () => {
    const json = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ｗｒｉｔｅ', arguments: { a: 'é\u0085\u000b' } } });
    expect(stdioLine(json)).toBe(json);
  });

  it('escapes both separators wherever they stand, and the JSON means the same', () => {
    const message = { id: 1, params: { '\u2028key': 'a\u2028b\u2029c\u2028\u2028', list: ['\u2029'] } };
    const json = JSON.stringify(message);
    const line = stdioLine(json);
    expect(line).not.toMatch(/[\u2028\u2029\r\n]/);
    expect(line).toContain('a\\u2028b\\u2029c\\u2028\\u2028');
    expect(JSON.parse(line)).toEqual(message);
  });

  it('keeps a backslash before a separator a literal backslash', () => {
    const message = { s: '\\\u2028\\\\\u2029' };
    expect(JSON.parse(stdioLine(JSON.stringify(message)))).toEqual(message);
  });
});
