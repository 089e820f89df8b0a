import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { canonicalName } from '../runtime/access/tool-name.js';
import { ALICE, BOB_READER, CAROL, startAccessGateway, type AccessGateway, type TestUser } from './helpers/access-gateway.js';
import { RawMcpSession, answerTo, toolNames, type JsonRpcMessage, type McpReply } from './helpers/mcp-session.js';

/*
 * Per-tool access on remote servers (`servers.NAME.url`): the proxy reads and screens each POST
 * before it goes upstream and rewrites watched answers in JSON bodies and in SSE events. The
 * upstream is the MCP SDK's server behind its Streamable HTTP transport, once answering JSON
 * (`enableJsonResponse`) and once SSE; it records every message it receives.
 */

const FILE_TOOLS = ['read_file', 'write_file', 'move_file', 'delete_file', 'list_directory', 'search_files'];
type Mode = 'json' | 'sse';

interface Received {
  mode: Mode;
  message: JsonRpcMessage;
}

interface Upstream {
  url(mode: Mode): string;
  received: Received[];
  /** The tool names of every tools/call that reached the upstream, as sent. */
  calls(mode?: Mode): string[];
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const received: Received[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const newServer = (): McpServer => {
    const server = new McpServer({ name: 'remote-file-tools', version: '1.0.0' });
    for (const name of FILE_TOOLS) {
      server.registerTool(name, { description: name, inputSchema: { path: z.string().optional() } }, async ({ path }) =>
        path === 'missing'
          ? { content: [{ type: 'text', text: 'no such file' }], isError: true }
          : { content: [{ type: 'text', text: `${name} ${path ?? ''}` }] },
      );
    }
    return server;
  };
  const http: Server = createServer(async (req, res) => {
    const mode: Mode = req.url?.startsWith('/json/') ? 'json' : 'sse';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as JsonRpcMessage | JsonRpcMessage[]) : undefined;
    for (const message of Array.isArray(body) ? body : body === undefined ? [] : [body]) received.push({ mode, message });
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (transport === undefined && id === undefined && isInitializeRequest(body)) {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: mode === 'json',
        onsessioninitialized: (sid) => void sessions.set(sid, created),
      });
      created.onclose = () => created.sessionId && sessions.delete(created.sessionId);
      await newServer().connect(created);
      transport = created;
    }
    if (transport === undefined) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      return;
    }
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: (mode) => `${base}/${mode}/mcp`,
    received,
    calls: (mode) =>
      received.flatMap(({ mode: m, message }) =>
        message.method === 'tools/call' && (mode === undefined || m === mode) ? [String(message.params?.['name'])] : [],
      ),
    async close() {
      await Promise.all([...sessions.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

const FS_ACCESS = {
  tools: { deny: ['write_*', 'move_file'] },
  access: [
    { users: ['alice'], tools: ['*'] },
    { teams: ['acme/readers'], tools: ['read_*', 'list_*', 'search_files'] },
  ],
};
const readerMay = (name: string): boolean => name.startsWith('read_') || name.startsWith('list_') || name === 'search_files';
const fsDenies = (name: string): boolean => name.startsWith('write_') || name === 'move_file';
const sorted = (names: string[]): string[] => [...names].sort();

function expectDenied({ reply, answer }: { reply: McpReply; answer: JsonRpcMessage }, name: string): void {
  expect(reply.status).toBe(200);
  expect(answer.error?.code).toBe(-32602);
  expect(answer.error?.message.startsWith(`Tool ${JSON.stringify(name)} is not available`)).toBe(true);
}

function textOf(answer: JsonRpcMessage): string {
  const content = answer.result?.['content'] as Array<{ text: string }> | undefined;
  if (content?.[0] === undefined) throw new Error(`no content in ${JSON.stringify(answer)}`);
  return content[0].text;
}

describe('per-tool access on a remote server', () => {
  let upstream: Upstream;
  let gw: AccessGateway;
  const open: RawMcpSession[] = [];

  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startAccessGateway({
      servers: {
        json: { url: upstream.url('json'), ...FS_ACCESS },
        sse: { url: upstream.url('sse'), ...FS_ACCESS },
        plain: { url: upstream.url('json') },
        limited: { url: upstream.url('sse'), rateLimit: { perUser: '6/1m', tools: { 'search_*': '2/1m' } } },
      },
    });
  });
  afterAll(async () => {
    await Promise.allSettled(open.map((s) => s.close()));
    await gw?.close();
    await upstream?.close();
  });

  async function session(server: string, user: TestUser, options: { protocolVersion?: string; headers?: Record<string, string> } = {}): Promise<RawMcpSession> {
    const s = await RawMcpSession.open(gw.urls.resourceFor(server), await gw.token(server, user), options);
    open.push(s);
    return s;
  }

  it('answers in the mode the upstream chose: JSON from one, SSE from the other', async () => {
    for (const [server, type] of [
      ['json', 'application/json'],
      ['sse', 'text/event-stream'],
    ] as const) {
      const s = await session(server, ALICE);
      const { reply, answer } = await s.send('tools/list');
      expect(reply.headers.get('content-type')).toContain(type);
      // Regression: a filtered SSE answer went out under the upstream's Content-Length; the client waited for the missing bytes until the socket closed.
      const length = reply.headers.get('content-length');
      if (length !== null) expect(Number(length)).toBe(Buffer.byteLength(reply.text));
      expect(toolNames(answer)).not.toContain('write_file');
    }
  });

  it.each(['json', 'sse'] as const)('filters tools/list per user (%s answers)', async (server) => {
    // The upstream's own list, through a server with no policy.
    expect(await (await session('plain', CAROL)).listTools()).toEqual(sorted(FILE_TOOLS));
    expect(await (await session(server, ALICE)).listTools()).toEqual(sorted(FILE_TOOLS.filter((name) => !fsDenies(name))));
    expect(await (await session(server, BOB_READER)).listTools()).toEqual(sorted(FILE_TOOLS.filter((name) => readerMay(name) && !fsDenies(name))));
    expect(await (await session(server, CAROL)).listTools()).toEqual([]);
    // A forged group header is the router's to strip: carol stays carol.
    expect(await (await session(server, CAROL, { headers: { 'X-User-Groups': 'team:acme/readers', 'X-User-Login': 'alice' } })).listTools()).toEqual([]);
  });

  it.each(['json', 'sse'] as const)('refuses denied calls by any spelling without sending them upstream (%s)', async (server) => {
    const alice = await session(server, ALICE);
    const bob = await session(server, BOB_READER);
    const before = upstream.calls(server).length;
    for (const name of ['write_file', 'WRITE_FILE', 'ｗｒｉｔｅ_file', 'write\u200b_file', 'move_\u00adfile', 'move_file ', 'write_\ufb01le']) {
      expectDenied(await alice.callTool(name, { path: 'p' }), name);
    }
    for (const name of ['delete_file', 'Delete_File ', 'ｄｅｌｅｔｅ_file']) expectDenied(await bob.callTool(name, { path: 'p' }), name);
    expect(upstream.calls(server).slice(before)).toEqual([]);
    // Allowed calls in the same sessions reach it.
    expect(textOf((await alice.callTool('delete_file', { path: 'old' })).answer)).toBe('delete_file old');
    expect(textOf((await bob.callTool('read_file', { path: 'a' })).answer)).toBe('read_file a');
    expect(upstream.calls(server).slice(before)).toEqual(['delete_file', 'read_file']);
    expect(
      upstream
        .calls()
        .map(canonicalName)
        .filter((name) => fsDenies(name)),
    ).toEqual([]);
  });

  it.each(['json', 'sse'] as const)('sends an allowed 2025-03-26 batch upstream and filters the list inside it (%s)', async (server) => {
    const bob = await session(server, BOB_READER, { protocolVersion: '2025-03-26' });
    const batch = [
      bob.request('tools/list'),
      bob.request('tools/call', { name: 'read_file', arguments: { path: 'b' } }),
      bob.request('tools/call', { name: 'list_directory', arguments: { path: 'd' } }),
    ];
    const reply = await bob.post(batch.map(({ body }) => body));
    expect(reply.status).toBe(200);
    const [list, read, dir] = batch.map(({ id }) => answerTo(reply, id)) as [JsonRpcMessage, JsonRpcMessage, JsonRpcMessage];
    expect(toolNames(list)).toEqual(sorted(FILE_TOOLS.filter((name) => readerMay(name) && !fsDenies(name))));
    expect(textOf(read)).toBe('read_file b');
    expect(textOf(dir)).toBe('list_directory d');
  });

  it.each(['json', 'sse'] as const)('sends none of a batch with a denied call: each request gets its error (%s)', async (server) => {
    const bob = await session(server, BOB_READER, { protocolVersion: '2025-03-26' });
    const before = upstream.received.length;
    const batch = [
      bob.request('tools/call', { name: 'read_file', arguments: { path: 'b' } }),
      bob.request('tools/call', { name: 'write_file', arguments: { path: 'w' } }),
      bob.request('tools/list'),
    ];
    const reply = await bob.post(batch.map(({ body }) => body));
    expect(reply.status).toBe(200);
    const [read, write, list] = batch.map(({ id }) => answerTo(reply, id)) as [JsonRpcMessage, JsonRpcMessage, JsonRpcMessage];
    expect(read.error?.code).toBe(-32600);
    expect(read.error?.message).toContain('Not sent');
    expectDenied({ reply, answer: write }, 'write_file');
    expect(list.error?.code).toBe(-32600);
    expect(upstream.received.slice(before)).toEqual([]);
    // The session is fine afterwards.
    expect(textOf((await bob.callTool('read_file', { path: 'after' })).answer)).toBe('read_file after');
  });

  it('rate-limits remote calls: 429, Retry-After, -32030 naming the limit, never sent upstream; bob unaffected', async () => {
    const alice = await session('limited', ALICE);
    const before = upstream.calls('sse').length;
    for (const path of ['1', '2']) expect(textOf((await alice.callTool('search_files', { path })).answer)).toBe(`search_files ${path}`);
    const overTool = await alice.callTool('search_files', { path: '3' });
    expect(overTool.reply.status).toBe(429);
    const retryAfter = Number(overTool.reply.headers.get('retry-after'));
    expect(retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(overTool.answer.error).toMatchObject({
      code: -32030,
      data: { reason: 'rate_limited', limit: 'servers.limited.rateLimit.tools.search_* (2 per 60s)', retryAfterSeconds: retryAfter },
    });
    // perUser: 4 counted so far of 6 (the proxy screens every request of a POST: initialize counts too).
    for (const path of ['4', '5']) expect(textOf((await alice.callTool('read_file', { path })).answer)).toBe(`read_file ${path}`);
    const overUser = await alice.send('tools/list');
    expect(overUser.reply.status).toBe(429);
    expect(overUser.reply.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(overUser.answer.error?.message).toContain('servers.limited.rateLimit.perUser (6 per 60s)');

    const bob = await session('limited', BOB_READER);
    expect(textOf((await bob.callTool('search_files', { path: 'bob' })).answer)).toBe('search_files bob');
    expect(upstream.calls('sse').slice(before)).toEqual(['search_files', 'search_files', 'read_file', 'read_file', 'search_files']);
  });

  it('audits remote calls: ok, error (isError), denied, limited', async () => {
    const lines = gw.audit();
    const outcomes = new Set(lines.map((line) => `${line['server']}:${line['outcome']}`));
    for (const expected of ['json:ok', 'json:denied', 'sse:ok', 'sse:denied', 'limited:ok', 'limited:limited']) expect(outcomes).toContain(expected);
    const alice = await session('json', ALICE);
    await alice.callTool('read_file', { path: 'missing' });
    expect(gw.audit().at(-1)).toMatchObject({
      audit: true,
      event: 'tool_call',
      server: 'json',
      tool: 'read_file',
      login: 'alice',
      sub: 'github:1001',
      outcome: 'error',
    });
    for (const line of gw.audit()) {
      expect(typeof line['durationMs']).toBe('number');
      expect(line).not.toHaveProperty('arguments');
      if (line['outcome'] !== 'ok') expect(typeof line['reason']).toBe('string');
    }
  });
});
