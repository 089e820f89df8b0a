import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalName } from '../runtime/access/tool-name.js';
import {
  ALICE,
  BOB_READER,
  CAROL,
  fileToolsServer,
  startAccessGateway,
  toolJournal,
  type AccessGateway,
  type LogLine,
  type TestUser,
} from './helpers/access-gateway.js';
import { RawMcpSession, answerTo, toolNames, type JsonRpcMessage, type McpReply } from './helpers/mcp-session.js';

/*
 * Per-tool access, rate limits and the tool-call audit on 2025-era sessions, through the whole
 * embedded gateway (router, /verify, bridge) to real stdio children. The file-tools fixture looks
 * names up loosely and journals every request it receives, so "refused and never reached the
 * child" is read from the child's own record.
 */

const ECHO_FIXTURE = fileURLToPath(new URL('./fixtures/echo-mcp-server.mjs', import.meta.url));
const SERVERS = ['fs', 'open', 'raw', 'limited', 'batchy', 'grow'] as const;
type ServerName = (typeof SERVERS)[number];

const FS_ACCESS = {
  tools: { deny: ['write_*', 'move_file'] },
  access: [
    { users: ['alice'], tools: ['*'] },
    { teams: ['acme/readers'], tools: ['read_*', 'list_*', 'search_files'] },
  ],
};
const readerMay = (name: string): boolean => name.startsWith('read_') || name.startsWith('list_') || name === 'search_files';
const fsDenies = (name: string): boolean => name.startsWith('write_') || name === 'move_file';

/** Every spelling of a denied name a lenient server would take for the name itself. */
const VARIANTS = [
  'WRITE_FILE',
  'Write_File',
  'ｗｒｉｔｅ_ｆｉｌｅ', // fullwidth letters
  'ＭＯＶＥ＿ＦＩＬＥ', // fullwidth letters and fullwidth low line
  'write\u200b_file', // zero-width space inside
  'move_\u00adfile', // soft hyphen
  'write_file ', // trailing space
  '\twrite_file', // leading tab
  'write_\ufb01le', // NFKC: the "fi" ligature
  'Write\ufe0f_File', // a variation selector
  'move\u2060_file', // word joiner
  'ｍｏｖｅ_ﬁｌｅ', // fullwidth and a ligature together
];

function expectDenied({ reply, answer }: { reply: McpReply; answer: JsonRpcMessage }, name: string): void {
  expect(reply.status).toBe(200);
  expect(answer.error?.code).toBe(-32602);
  expect(answer.error?.message.startsWith(`Tool ${JSON.stringify(name)} is not available`)).toBe(true);
  expect(answer.error?.data?.['reason']).toBe('access_denied');
}

function expectLimited({ reply, answer }: { reply: McpReply; answer: JsonRpcMessage }, limit: string): void {
  expect(reply.status).toBe(429);
  const retryAfter = Number(reply.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
  expect(answer.error?.code).toBe(-32030);
  expect(answer.error?.message).toContain(limit);
  expect(answer.error?.data).toMatchObject({ reason: 'rate_limited', retryAfterSeconds: retryAfter });
  expect(String(answer.error?.data?.['limit'])).toContain(limit);
}

function textOf(answer: JsonRpcMessage): string {
  const content = answer.result?.['content'] as Array<{ text: string }> | undefined;
  if (content?.[0] === undefined) throw new Error(`no content in ${JSON.stringify(answer)}`);
  return content[0].text;
}

describe('per-tool access on 2025 sessions through the embedded gateway', () => {
  let gw: AccessGateway;
  const journals = Object.fromEntries(SERVERS.map((name) => [name, toolJournal()])) as Record<ServerName, ReturnType<typeof toolJournal>>;
  const open: RawMcpSession[] = [];
  /** The fixture's whole list, as a server with no policy shows it: what the filtered lists are computed from. */
  let everyTool: string[];

  beforeAll(async () => {
    gw = await startAccessGateway({
      servers: {
        fs: fileToolsServer(journals.fs, FS_ACCESS),
        open: fileToolsServer(journals.open, { tools: { deny: ['delete_*'] } }),
        raw: fileToolsServer(journals.raw),
        limited: fileToolsServer(journals.limited, { rateLimit: { perUser: '6/1m', tools: { search_files: '2/1m' } } }),
        batchy: fileToolsServer(journals.batchy, { tools: { deny: ['write_*'] }, rateLimit: { tools: { 'search_*': '1/1m' } } }),
        grow: fileToolsServer(journals.grow, {
          tools: { deny: ['write_*'] },
          access: [
            { users: ['alice'], tools: ['*'] },
            { teams: ['acme/readers'], tools: ['read_*', 'add_tool'] },
          ],
        }),
        echo: { command: process.execPath, args: [ECHO_FIXTURE], tools: { deny: ['pid'] } },
      },
    });
    const raw = await session('raw', ALICE);
    everyTool = await raw.listTools();
    // The fixture's own list, so the expectations below are about the gateway, not a guess.
    expect(everyTool).toEqual(expect.arrayContaining(['read_file', 'write_file', 'move_file', 'delete_file', 'list_directory', 'search_files']));
  });
  afterAll(async () => {
    await Promise.allSettled(open.map((s) => s.close()));
    await gw?.close();
    for (const journal of Object.values(journals)) journal.remove();
  });

  async function session(server: string, user: TestUser, options: { protocolVersion?: string; headers?: Record<string, string> } = {}): Promise<RawMcpSession> {
    let s: RawMcpSession;
    try {
      s = await RawMcpSession.open(gw.urls.resourceFor(server), await gw.token(server, user), options);
    } catch (err) {
      // A child that exits at start says why on stderr (the sandbox, the fixture): show it with the failure.
      const stderr = gw.rawLogs.filter((line) => line.includes('"stream":"stderr"')).slice(-5);
      throw new Error(`${(err as Error).message}\nlast stderr lines of the servers:\n${stderr.join('')}`);
    }
    open.push(s);
    return s;
  }

  function auditSince(mark: number): LogLine[] {
    return gw.audit().slice(mark);
  }

  it('filters tools/list per user: deny hides from everyone, access rules give users and teams their tools, a user no rule names gets none', async () => {
    const alice = await session('fs', ALICE);
    const bob = await session('fs', BOB_READER);
    const carol = await session('fs', CAROL);
    expect(await alice.listTools()).toEqual(everyTool.filter((name) => !fsDenies(name)));
    expect(await bob.listTools()).toEqual(everyTool.filter((name) => readerMay(name) && !fsDenies(name)));
    expect(await carol.listTools()).toEqual([]);
    // Without an access list every allowed user gets every tool not denied.
    for (const user of [BOB_READER, CAROL]) {
      expect(await (await session('open', user)).listTools()).toEqual(everyTool.filter((name) => !name.startsWith('delete_')));
    }
    // The list results came from the children (filtered on the way), not from the gateway.
    expect(journals.fs.entries().filter((entry) => entry.method === 'tools/list')).toHaveLength(3);
  });

  it('refuses a hidden tool by every name variant with -32602 on HTTP 200, and the child never hears of it', async () => {
    // Control: with no policy the fixture runs each variant as the tool it folds to.
    const raw = await session('raw', ALICE);
    for (const name of VARIANTS) {
      const { answer } = await raw.callTool(name, { path: 'p' });
      expect(textOf(answer)).toMatch(/^(wrote|moved) p$/);
    }
    expect(journals.raw.calls()).toEqual(expect.arrayContaining(VARIANTS));

    const alice = await session('fs', ALICE);
    const bob = await session('fs', BOB_READER);
    for (const name of ['write_file', 'move_file', ...VARIANTS]) {
      const { reply, answer } = await alice.callTool(name, { path: 'p' });
      expectDenied({ reply, answer }, name);
      expect(answer.error?.message).toContain('for alice on fs');
    }
    // bob's team has read_* and list_*, not delete_file: refused by the access rules, in any spelling.
    for (const name of ['delete_file', 'DELETE_FILE', 'ｄｅｌｅｔｅ_file', 'delete\u200b_file ']) {
      const { reply, answer } = await bob.callTool(name, { path: 'p' });
      expectDenied({ reply, answer }, name);
    }
    const reached = journals.fs.calls().map(canonicalName);
    expect(reached.filter((name) => name === 'write_file' || name === 'move_file' || name === 'delete_file')).toEqual([]);
    // A tool the user may call still goes through, in the same sessions.
    expect(textOf((await bob.callTool('read_file', { path: 'a.txt' })).answer)).toBe('contents of a.txt');
    expect(journals.fs.calls()).toContain('read_file');
  });

  it('answers a 2025-03-26 batch mixing allowed and denied calls: the allowed ones run, the denied ones get -32602, none of those reach the child', async () => {
    const bob = await session('fs', BOB_READER, { protocolVersion: '2025-03-26' });
    const before = journals.fs.calls();
    const batch = [
      bob.request('tools/call', { name: 'read_file', arguments: { path: 'one' } }),
      bob.request('tools/call', { name: 'write_file', arguments: { path: 'two' } }),
      bob.request('tools/call', { name: 'list_directory', arguments: { path: '/srv' } }),
      bob.request('tools/call', { name: 'Delete_File', arguments: { path: 'three' } }),
      bob.request('tools/list'),
    ];
    const reply = await bob.post([
      ...batch.map(({ body }) => body),
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'x', progress: 1 } },
    ]);
    expect(reply.status).toBe(200);
    const [read, write, list, del, tools] = batch.map(({ id }) => answerTo(reply, id)) as [
      JsonRpcMessage,
      JsonRpcMessage,
      JsonRpcMessage,
      JsonRpcMessage,
      JsonRpcMessage,
    ];
    expect(textOf(read)).toBe('contents of one');
    expectDenied({ reply, answer: write }, 'write_file');
    expect(textOf(list)).toBe('listing of /srv');
    expectDenied({ reply, answer: del }, 'Delete_File');
    // The list inside a batch is filtered too.
    expect(toolNames(tools)).toEqual(everyTool.filter((name) => readerMay(name) && !fsDenies(name)));
    expect(journals.fs.calls().slice(before.length).sort()).toEqual(['list_directory', 'read_file']);
  });

  it('filters the list again after the server adds tools at runtime (notifications/tools/list_changed)', async () => {
    const added = ['read_log', 'write_log', 'erase_log'];
    const connect = async (user: TestUser) => {
      const transport = new StreamableHTTPClientTransport(new URL(gw.urls.resourceFor('grow')), {
        requestInit: { headers: { Authorization: `Bearer ${await gw.token('grow', user)}` } },
      });
      const client = new Client({ name: 'tool-access', version: '1.0.0' });
      let changed!: () => void;
      const listChanged = new Promise<void>((resolve) => {
        changed = resolve;
      });
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed());
      await client.connect(transport);
      return { client, transport, listChanged };
    };
    const names = async (client: Client): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name).sort();

    const bob = await connect(BOB_READER);
    const bobMay = (name: string): boolean => (name.startsWith('read_') || name === 'add_tool') && !name.startsWith('write_');
    expect(await names(bob.client)).toEqual(everyTool.filter(bobMay));
    await bob.client.callTool({ name: 'add_tool', arguments: { names: added } });
    await bob.listChanged;
    expect(await names(bob.client)).toEqual([...everyTool, ...added].filter(bobMay).sort());
    await expect(bob.client.callTool({ name: 'erase_log', arguments: {} })).rejects.toMatchObject({ code: -32602 });

    // alice's session has a child of its own: she adds the same tools and sees all but write_*.
    const alice = await connect(ALICE);
    await alice.client.callTool({ name: 'add_tool', arguments: { names: added } });
    await alice.listChanged;
    expect(await names(alice.client)).toEqual([...everyTool, ...added].filter((name) => !name.startsWith('write_')).sort());
    await expect(alice.client.callTool({ name: 'write_log', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    expect((await alice.client.callTool({ name: 'erase_log', arguments: {} })).content).toEqual([{ type: 'text', text: 'erase_log ran' }]);

    const calls = journals.grow.calls();
    expect(calls.filter((name) => name === 'erase_log')).toHaveLength(1); // alice's, never bob's
    expect(calls).not.toContain('write_log');
    for (const { client, transport } of [bob, alice]) {
      await transport.terminateSession();
      await client.close();
    }
  });

  it('does not trust a client-sent X-User-Groups (or X-User-Login): the router replaces them with what the token says', async () => {
    const forged = { 'X-User-Groups': 'team:acme/readers', 'X-User-Login': 'alice', 'X-User-Sub': 'github:1001' };
    const carol = await session('fs', CAROL, { headers: forged });
    expect(await carol.listTools()).toEqual([]);
    for (const name of ['read_file', 'search_files', 'write_file']) {
      const { reply, answer } = await carol.callTool(name, { path: 'p' });
      expectDenied({ reply, answer }, name);
      expect(answer.error?.message).toContain('for carol on fs');
    }
    // A reader cannot add a group to the ones its token carries either.
    const bob = await session('fs', BOB_READER, { headers: { 'X-User-Groups': 'team:acme/admins,team:acme/readers', 'X-User-Login': 'alice' } });
    expect(await bob.listTools()).toEqual(everyTool.filter((name) => readerMay(name) && !fsDenies(name)));
    const denied = auditSince(0).filter((line) => line['login'] === 'carol' && line['outcome'] === 'denied');
    expect(denied.map((line) => line['tool'])).toEqual(expect.arrayContaining(['read_file', 'search_files', 'write_file']));
    expect(denied.every((line) => line['sub'] === `github:${CAROL.id}`)).toBe(true);
  });

  it('writes one audit line per tools/call: ok, error (isError, a JSON-RPC error, the server exiting), denied, without arguments or results', async () => {
    const mark = gw.audit().length;
    const alice = await session('fs', ALICE);
    await alice.callTool('read_file', { path: 'secret-plan.txt' });
    await alice.callTool('read_file', { path: 'missing' });
    await alice.callTool('no_such_tool', { path: 'secret-plan.txt' });
    await alice.callTool('write_file', { path: 'secret-plan.txt' });
    const echo = await session('echo', BOB_READER);
    expect(textOf((await echo.callTool('echo', { text: 'hi' })).answer)).toBe('hi');
    expectDenied(await echo.callTool('pid'), 'pid');
    const crashed = await echo.callTool('crash');
    expect(crashed.answer.error).toBeDefined();

    const lines = auditSince(mark);
    const common = { audit: true, event: 'tool_call', level: 30 };
    expect(lines).toEqual([
      expect.objectContaining({ ...common, server: 'fs', tool: 'read_file', login: 'alice', sub: 'github:1001', outcome: 'ok' }),
      expect.objectContaining({ ...common, server: 'fs', tool: 'read_file', login: 'alice', outcome: 'error', reason: expect.stringContaining('isError') }),
      expect.objectContaining({ ...common, server: 'fs', tool: 'no_such_tool', outcome: 'error', reason: 'Unknown tool: no_such_tool' }),
      expect.objectContaining({ ...common, server: 'fs', tool: 'write_file', outcome: 'denied', reason: 'servers.fs.tools.deny[0] "write_*"' }),
      expect.objectContaining({ ...common, server: 'echo', tool: 'echo', login: 'bob', sub: 'github:1002', outcome: 'ok' }),
      expect.objectContaining({ ...common, server: 'echo', tool: 'pid', outcome: 'denied', reason: 'servers.echo.tools.deny[0] "pid"' }),
      expect.objectContaining({ ...common, server: 'echo', tool: 'crash', outcome: 'error', reason: expect.stringContaining('exited') }),
    ]);
    for (const line of lines) {
      expect(typeof line['durationMs']).toBe('number');
      expect(line['durationMs']).toBeGreaterThanOrEqual(0);
    }
    // Nothing the user typed or a tool read, in any audit line of this gateway.
    for (const line of gw.audit()) {
      expect(Object.keys(line)).not.toContain('arguments');
      expect(Object.keys(line)).not.toContain('result');
    }
    expect(gw.rawLogs.join('')).not.toContain('secret-plan');
  });

  it('keeps the audit one JSON line when the tool name carries newlines, quotes and a forged line', async () => {
    const hostile = 'evil"\n{"audit":true,"event":"tool_call","tool":"write_file","outcome":"ok"}\r\n\u2028x\\';
    const mark = gw.audit().length;
    const alice = await session('fs', ALICE);
    const carol = await session('fs', CAROL);
    const forwarded = await alice.callTool(hostile); // alice may call anything not denied: the child answers "unknown"
    expect(forwarded.answer.error?.message).toBe(`Unknown tool: ${hostile}`);
    expectDenied(await carol.callTool(hostile), hostile);
    const long = 'a'.repeat(300);
    expectDenied(await carol.callTool(long), long.slice(0, 200));

    for (const raw of gw.rawLogs) {
      expect(raw.endsWith('\n')).toBe(true);
      expect(raw.slice(0, -1)).not.toMatch(/[\r\n]/);
    }
    // One `server` key per audit line (RFC 8259 §4: duplicate names leave the value to the parser).
    for (const raw of gw.rawLogs.filter((line) => line.includes('"event":"tool_call"'))) expect(raw.match(/"server":/g)).toHaveLength(1);
    const lines = auditSince(mark);
    expect(lines.map((line) => [line['login'], line['tool'], line['outcome']])).toEqual([
      ['alice', hostile, 'error'],
      ['carol', hostile, 'denied'],
      ['carol', `${'a'.repeat(200)}…`, 'denied'],
    ]);
    expect(gw.audit().filter((line) => line['tool'] === 'write_file' && line['outcome'] === 'ok')).toEqual([]);
  });

  it('hands a child U+2028 and U+2029 escaped, so a server whose line reader ends lines there gets the call whole', async () => {
    const alice = await session('fs', ALICE);
    const path = 'a\u2028{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"write_file"}}\u2029b';
    expect(textOf((await alice.callTool('read_file', { path })).answer)).toBe(`contents of ${path}`);
    const old = await session('fs', ALICE, { protocolVersion: '2025-03-26' });
    const batch = await old.post([old.request('tools/call', { name: 'read_file', arguments: { path: '\u2028' } }).body]);
    expect(batch.messages.map((message) => textOf(message))).toEqual(['contents of \u2028']);
  });

  it('rate-limits per user and per tool: 429 with Retry-After and -32030 naming the limit; the child never sees a limited request; bob keeps his own count', async () => {
    const mark = gw.audit().length;
    const alice = await session('limited', ALICE);
    for (let i = 0; i < 2; i++) expect(textOf((await alice.callTool('search_files', { path: `q${i}` })).answer)).toBe(`found q${i}`);
    const overTool = await alice.callTool('search_files', { path: 'q2' });
    expectLimited(overTool, 'servers.limited.rateLimit.tools.search_files (2 per 60s)');
    // perUser counts every request (initialize and the refused search too): 4 so far of 6.
    for (let i = 0; i < 2; i++) expect(textOf((await alice.callTool('read_file', { path: `r${i}` })).answer)).toBe(`contents of r${i}`);
    const overUser = await alice.callTool('read_file', { path: 'r2' });
    expectLimited(overUser, 'servers.limited.rateLimit.perUser (6 per 60s)');
    const list = await alice.send('tools/list');
    expectLimited(list, 'servers.limited.rateLimit.perUser (6 per 60s)');
    expect(gw.logs).toContainEqual(expect.objectContaining({ event: 'rate_limited', server: 'limited', method: 'tools/list', login: 'alice' }));
    for (const raw of gw.rawLogs.filter((line) => line.includes('"event":"rate_limited"'))) expect(raw.match(/"server":/g)).toHaveLength(1);

    // bob counts on his own: his calls run while alice is over both limits.
    const bob = await session('limited', BOB_READER);
    expect(textOf((await bob.callTool('search_files', { path: 'b' })).answer)).toBe('found b');
    expect(textOf((await bob.callTool('read_file', { path: 'b' })).answer)).toBe('contents of b');

    const calls = journals.limited.calls();
    expect(calls.filter((name) => name === 'search_files')).toHaveLength(3); // alice 2, bob 1
    expect(calls.filter((name) => name === 'read_file')).toHaveLength(3); // alice 2, bob 1
    expect(journals.limited.entries().filter((entry) => entry.method === 'tools/list')).toEqual([]);
    const limited = auditSince(mark).filter((line) => line['outcome'] === 'limited');
    expect(limited).toEqual([
      expect.objectContaining({ server: 'limited', tool: 'search_files', login: 'alice', reason: 'servers.limited.rateLimit.tools.search_files (2 per 60s)' }),
      expect.objectContaining({ server: 'limited', tool: 'read_file', login: 'alice', reason: 'servers.limited.rateLimit.perUser (6 per 60s)' }),
    ]);
  });

  it('answers a batch with a limited member on 200: that member gets -32030, a denied one -32602, the rest run', async () => {
    const alice = await session('batchy', ALICE, { protocolVersion: '2025-03-26' });
    const batch = [
      alice.request('tools/call', { name: 'search_files', arguments: { path: 'x' } }),
      alice.request('tools/call', { name: 'SEARCH_FILES', arguments: { path: 'y' } }),
      alice.request('tools/call', { name: 'write_file', arguments: { path: 'z' } }),
      alice.request('tools/call', { name: 'read_file', arguments: { path: 'w' } }),
    ];
    const reply = await alice.post(batch.map(({ body }) => body));
    expect(reply.status).toBe(200);
    const [first, second, write, read] = batch.map(({ id }) => answerTo(reply, id)) as [JsonRpcMessage, JsonRpcMessage, JsonRpcMessage, JsonRpcMessage];
    expect(textOf(first)).toBe('found x');
    expect(second.error).toMatchObject({ code: -32030, data: { reason: 'rate_limited', limit: 'servers.batchy.rateLimit.tools.search_* (1 per 60s)' } });
    expectDenied({ reply, answer: write }, 'write_file');
    expect(textOf(read)).toBe('contents of w');
    expect(journals.batchy.calls().sort()).toEqual(['read_file', 'search_files']);
  });
});

describe('the audit with audit.toolArguments, and the top-level rateLimit default', () => {
  let gw: AccessGateway;
  const journal = toolJournal();

  beforeAll(async () => {
    gw = await startAccessGateway({
      rateLimit: { perUser: '3/1m' },
      audit: { toolArguments: true },
      servers: { fs: fileToolsServer(journal, { tools: { deny: ['write_*'] } }) },
    });
  });
  afterAll(async () => {
    await gw?.close();
    journal.remove();
  });

  it('records arguments and results when asked, counts against the top-level perUser, and counts denied calls too', async () => {
    const alice = await RawMcpSession.open(gw.urls.resourceFor('fs'), await gw.token('fs', ALICE));
    // initialize counted: 1 of 3.
    await alice.callTool('read_file', { path: 'notes.txt' });
    await alice.callTool('read_file', { path: 'again.txt', token: 'tool-arg-secret', authorization: 'Bearer arg-secret' });
    const over = await alice.callTool('read_file', { path: 'over.txt' });
    expectLimited(over, 'rateLimit.perUser (3 per 60s)');
    expect(over.answer.error?.message).not.toContain('servers.fs');
    // Limits speak first: denied calls count too, so they cannot be sent (and audited) without bound.
    expectLimited(await alice.callTool('write_file', { path: 'notes.txt', content: 'x' }), 'rateLimit.perUser (3 per 60s)');

    expect(gw.audit()).toEqual([
      expect.objectContaining({
        tool: 'read_file',
        outcome: 'ok',
        arguments: { path: 'notes.txt' },
        result: { content: [{ type: 'text', text: 'contents of notes.txt' }] },
      }),
      // Recorded arguments pass the logger's redaction like any other line.
      expect.objectContaining({
        tool: 'read_file',
        outcome: 'ok',
        arguments: { path: 'again.txt', token: '[redacted]', authorization: '[redacted]' },
      }),
      expect.objectContaining({ tool: 'read_file', outcome: 'limited', arguments: { path: 'over.txt' }, reason: 'rateLimit.perUser (3 per 60s)' }),
      expect.objectContaining({ tool: 'write_file', outcome: 'limited', arguments: { path: 'notes.txt', content: 'x' } }),
    ]);
    expect(journal.calls()).toEqual(['read_file', 'read_file']);
    expect(gw.rawLogs.join('')).not.toMatch(/tool-arg-secret|arg-secret/);
    await alice.close();
  });
});
