import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB_READER, CAROL, fileToolsServer, startAccessGateway, toolJournal, type AccessGateway, type TestUser } from './helpers/access-gateway.js';

/*
 * Per-tool access for 2026-07-28 (stateless) requests on the same endpoint as 2025 sessions:
 * the gateway screens each request before the modern endpoint runs it and filters the
 * tools/list it answers from the 2025 child, so the era a client speaks opens no way around the
 * policy. The fixture journals every request it receives, which proves a refused call never
 * reached it.
 */

const MODERN = '2026-07-28';
let gw: AccessGateway;
const journal = toolJournal();

interface Answer {
  status: number;
  headers: Headers;
  message: Record<string, any>;
}

async function modern(server: string, user: TestUser, method: string, params: Record<string, unknown> = {}, id: number | string = 1): Promise<Answer> {
  const name = method === 'tools/call' ? params['name'] : undefined;
  const res = await fetch(gw.urls.resourceFor(server), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await gw.token(server, user)}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(typeof name === 'string' ? { 'mcp-name': headerValue(name) } : {}),
      // Forged: the router replaces it with what the token says.
      'x-user-groups': 'team:acme/readers',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/clientInfo': { name: 'modern-access-test', version: '1.0.0' },
        },
      },
    }),
  });
  const text = await res.text();
  const json = text.startsWith('{') ? text : (/^data: ?(.*)$/m.exec(text)?.[1] ?? '{}');
  return { status: res.status, headers: res.headers, message: JSON.parse(json) as Record<string, any> };
}

/** Header values that are not plain printable ASCII travel base64-encoded (streamable-http.mdx "Value Encoding"). */
function headerValue(value: string): string {
  return /^[\x21-\x7e]+$/.test(value) ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

const names = (answer: Answer): string[] => (answer.message['result']?.tools ?? []).map((tool: { name: string }) => tool.name).sort();

beforeAll(async () => {
  gw = await startAccessGateway({
    servers: {
      fs: fileToolsServer(journal, {
        tools: { deny: ['write_*', 'move_file'] },
        access: [
          { users: ['alice'], tools: ['*'] },
          { teams: ['acme/readers'], tools: ['read_*', 'list_*', 'search_files'] },
        ],
        rateLimit: { tools: { search_files: '2/1m' } },
      }),
    },
  });
});
afterAll(async () => {
  await gw?.close();
  journal.remove();
});

describe('2026-07-28 requests under the tool gate', () => {
  it('filters tools/list per user, as for 2025 sessions', async () => {
    expect(names(await modern('fs', ALICE, 'tools/list'))).toEqual(['add_tool', 'delete_file', 'list_directory', 'read_file', 'search_files']);
    expect(names(await modern('fs', BOB_READER, 'tools/list'))).toEqual(['list_directory', 'read_file', 'search_files']);
    const carol = await modern('fs', CAROL, 'tools/list');
    expect(carol.status).toBe(200);
    expect(carol.message['result']).toMatchObject({ tools: [], resultType: 'complete' });
    expect(journal.entries().filter((entry) => entry.method === 'tools/list').length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a hidden tool by any variant of its name, before the child', async () => {
    const before = journal.calls().length;
    for (const name of ['write_file', 'WRITE_FILE', 'ｗｒｉｔｅ_file', 'write\u200b_file', ' move_file']) {
      const answer = await modern('fs', ALICE, 'tools/call', { name, arguments: { path: 'x' } });
      expect(answer.status, name).toBe(200);
      expect(answer.message['error']).toMatchObject({ code: -32602, data: { reason: 'access_denied', server: 'fs' } });
    }
    const carol = await modern('fs', CAROL, 'tools/call', { name: 'read_file', arguments: { path: 'x' } });
    expect(carol.message['error']?.code).toBe(-32602);
    expect(journal.calls().length).toBe(before);
  });

  it('runs an allowed call, audits it, and rate-limits with 429 and Retry-After', async () => {
    const mark = gw.audit().length;
    const read = await modern('fs', BOB_READER, 'tools/call', { name: 'read_file', arguments: { path: 'notes.txt' } });
    expect(read.message['result']).toMatchObject({ content: [{ type: 'text', text: 'contents of notes.txt' }], resultType: 'complete' });
    for (let i = 0; i < 2; i++) expect((await modern('fs', BOB_READER, 'tools/call', { name: 'search_files', arguments: { path: `q${i}` } })).status).toBe(200);
    const over = await modern('fs', BOB_READER, 'tools/call', { name: 'search_files', arguments: { path: 'q2' } });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.message['error']).toMatchObject({
      code: -32030,
      data: { reason: 'rate_limited', limit: 'servers.fs.rateLimit.tools.search_files (2 per 60s)' },
    });
    expect(journal.calls().filter((name) => name === 'search_files')).toEqual(['search_files', 'search_files']);
    const denied = await modern('fs', BOB_READER, 'tools/call', { name: 'delete_file', arguments: { path: 'x' } });
    expect(denied.message['error']?.code).toBe(-32602);
    expect(
      gw
        .audit()
        .slice(mark)
        .map((line) => [line['login'], line['tool'], line['outcome']]),
    ).toEqual([
      ['bob', 'read_file', 'ok'],
      ['bob', 'search_files', 'ok'],
      ['bob', 'search_files', 'ok'],
      ['bob', 'search_files', 'limited'],
      ['bob', 'delete_file', 'denied'],
    ]);
    for (const line of gw.audit().slice(mark)) expect(line).not.toHaveProperty('arguments');
  });
});
