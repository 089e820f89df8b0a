import { describe, expect, it } from 'vitest';
import type { ClientMessage } from '../runtime/bridge/bridge-session.js';
import { toEnvelope } from '../runtime/bridge/json-rpc.js';
import { supportsUrlElicitation, urlElicitationRequiredLine } from '../runtime/bridge/upstream-reconnect.js';

function messages(...values: unknown[]): ClientMessage[] {
  return values.map((value) => ({ envelope: toEnvelope(value)!, line: JSON.stringify(value) }) as ClientMessage);
}

const initialize = (capabilities: unknown) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 't', version: '1' } },
});

describe('URL-mode elicitation support (a client that can be sent to the connect page)', () => {
  it('is declared by capabilities.elicitation.url being an object, in an initialize request', () => {
    expect(supportsUrlElicitation(messages(initialize({ elicitation: { url: {} } })))).toBe(true);
    expect(supportsUrlElicitation(messages(initialize({ elicitation: { form: {}, url: {} } })))).toBe(true);
  });

  it('is not declared by form mode, an empty elicitation, other shapes, or another method', () => {
    for (const capabilities of [
      {},
      { elicitation: {} },
      { elicitation: { form: {} } },
      { elicitation: { url: true } },
      { elicitation: { url: 'yes' } },
      { elicitation: { url: null } },
      { elicitation: { url: [] } },
      { elicitation: [] },
      { elicitation: 'url' },
      null,
      'elicitation',
      [{ elicitation: { url: {} } }],
    ]) {
      expect(supportsUrlElicitation(messages(initialize(capabilities))), JSON.stringify(capabilities)).toBe(false);
    }
    expect(supportsUrlElicitation(messages({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { capabilities: { elicitation: { url: {} } } } }))).toBe(
      false,
    );
    expect(supportsUrlElicitation(messages({ jsonrpc: '2.0', method: 'initialize', params: { capabilities: { elicitation: { url: {} } } } }))).toBe(false);
    expect(supportsUrlElicitation(messages({ jsonrpc: '2.0', id: 1, method: 'initialize' }))).toBe(false);
    expect(supportsUrlElicitation([])).toBe(false);
  });
});

describe('the -32042 answer', () => {
  it('is URLElicitationRequired with one url-mode elicitation: a fresh id, the link, a message naming the server', () => {
    const first = JSON.parse(urlElicitationRequiredLine(7, 'linear', 'https://mcp.example.com/upstream/connect/linear'));
    const second = JSON.parse(urlElicitationRequiredLine('a"b', 'linear', 'https://mcp.example.com/upstream/connect/linear'));
    expect(first).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32042,
        message: expect.stringContaining('linear'),
        data: {
          elicitations: [
            {
              mode: 'url',
              elicitationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
              url: 'https://mcp.example.com/upstream/connect/linear',
              message: expect.stringContaining('linear'),
            },
          ],
        },
      },
    });
    expect(second.id).toBe('a"b');
    expect(second.error.data.elicitations[0].elicitationId).not.toBe(first.error.data.elicitations[0].elicitationId);
  });
});
