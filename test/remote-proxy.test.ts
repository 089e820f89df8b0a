import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CreateMessageRequestSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { runAddServer } from '../cli/commands/add-server.js';
import { runList } from '../cli/commands/list.js';
import { loadConfig } from '../runtime/config/load-config.js';
import { projectPaths } from '../runtime/config/project-paths.js';
import { readServerHeaders } from '../runtime/config/server-headers.js';
import { writeConfig } from '../runtime/config/write-config.js';
import { startLocalGateway, type LocalGateway } from './helpers/local-gateway.js';

const API_KEY = 'k-123';

interface Upstream {
  url: string;
  /** Headers of every request the upstream received. */
  seen: IncomingHttpHeaders[];
  sessions: Map<string, StreamableHTTPServerTransport>;
  close(): Promise<void>;
}

/** A real remote MCP server: the SDK's McpServer behind its stateful Streamable HTTP transport. */
async function startUpstream(): Promise<Upstream> {
  const seen: IncomingHttpHeaders[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const newServer = (): McpServer => {
    const server = new McpServer({ name: 'remote-fixture', version: '2.0.0' });
    server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
    server.registerTool('count', { inputSchema: { to: z.number().int() } }, async ({ to }, extra) => {
      for (let i = 1; i <= to; i++) {
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: extra._meta?.progressToken ?? 0, progress: i, total: to } });
      }
      return { content: [{ type: 'text', text: `counted to ${to}` }] };
    });
    server.registerTool('sample', {}, async () => {
      const answer = await server.server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 });
      return { content: [{ type: 'text', text: answer.content.type === 'text' ? answer.content.text : '?' }] };
    });
    return server;
  };
  const http: Server = createServer(async (req, res) => {
    seen.push(req.headers);
    if (req.headers['x-api-key'] !== API_KEY) {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="upstream"' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (transport === undefined && id === undefined && isInitializeRequest(body)) {
      const created = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (sid) => void sessions.set(sid, created) });
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
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    seen,
    sessions,
    async close() {
      await Promise.all([...sessions.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

describe('remote MCP server behind the gateway', () => {
  let upstream: Upstream;
  let gw: LocalGateway;
  let endpoint: URL;

  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startLocalGateway(
      { servers: { remote: { url: upstream.url, headers: ['X-Api-Key'] }, wrongkey: { url: upstream.url, headers: ['X-Api-Key'] } } },
      { upstreamHeaders: { remote: { 'X-Api-Key': API_KEY }, wrongkey: { 'X-Api-Key': 'not-the-key' } } },
    );
    endpoint = new URL(gw.urls.resourceFor('remote'));
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function connect(user = 'alice', capabilities: Record<string, unknown> = {}) {
    const token = await gw.token('remote', user);
    const transport = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { Authorization: `Bearer ${token}`, Cookie: 'session=secret' } } });
    const client = new Client({ name: 'remote-test', version: '1.0.0' }, { capabilities });
    await client.connect(transport);
    return { client, transport, token };
  }

  it("proxies tool calls with the static header, never the client's token, cookies or identity headers", async () => {
    const { client, transport, token } = await connect();
    expect(client.getServerVersion()?.name).toBe('remote-fixture');
    const result = await client.callTool({ name: 'echo', arguments: { text: 'over the proxy' } });
    expect(result.content).toEqual([{ type: 'text', text: 'over the proxy' }]);
    expect(upstream.seen.length).toBeGreaterThan(0);
    for (const headers of upstream.seen) {
      expect(headers['x-api-key']).toBe(API_KEY);
      expect(headers['authorization']).toBeUndefined();
      expect(headers['cookie']).toBeUndefined();
      expect(Object.keys(headers).filter((name) => name.startsWith('x-user-'))).toEqual([]);
      expect(JSON.stringify(headers)).not.toContain(token);
    }
    await transport.terminateSession();
    await client.close();
  });

  it('streams SSE through as it comes: progress before the result, and a sampling round trip both ways', async () => {
    const { client, transport } = await connect('alice', { sampling: {} });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'from the client' }, model: 'm' }));
    const progress: number[] = [];
    const counted = await client.callTool({ name: 'count', arguments: { to: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    expect(counted.content).toEqual([{ type: 'text', text: 'counted to 3' }]);
    const sampled = await client.callTool({ name: 'sample', arguments: {} });
    expect(sampled.content).toEqual([{ type: 'text', text: 'from the client' }]);
    await transport.terminateSession();
    await client.close();
  });

  it("answers 404 to another user presenting a session id, and the owner's session keeps working", async () => {
    const { client, transport } = await connect('alice');
    const mallory = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await gw.token('remote', 'bob')}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': transport.sessionId!,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(mallory.status).toBe(404);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(gw.gateway.bridges.get('remote')!.sessionCount).toBe(1);
    await transport.terminateSession();
    expect(gw.gateway.bridges.get('remote')!.sessionCount).toBe(0);
    await client.close();
  });

  it("turns the upstream refusing the gateway's credentials into 502, without the upstream's challenge", async () => {
    const res = await fetch(gw.urls.resourceFor('wrongkey'), {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.token('wrongkey')}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toMatchObject({ error: { message: expect.stringContaining('HTTP 401') } });
  });

  it('reports the remote server in /health: healthy when it answers initialize, with detail when not', async () => {
    type Health = { status: string; servers: Record<string, { healthy: boolean; detail?: string }> };
    // Each server's first probe may still run on a loaded machine; poll until both are in.
    let res = await fetch(`${gw.urls.issuer}/health`);
    let body = (await res.json()) as Health;
    await expect
      .poll(
        async () => {
          res = await fetch(`${gw.urls.issuer}/health`);
          body = (await res.json()) as Health;
          return [body.servers['remote']?.healthy, body.servers['wrongkey']?.detail?.startsWith('no answer') ?? true];
        },
        { timeout: 15_000 },
      )
      .toEqual([true, false]);
    expect(res.status).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.servers['remote']).toMatchObject({ healthy: true });
    expect(body.servers['wrongkey']).toMatchObject({ healthy: false, detail: 'the remote server answered initialize with HTTP 401' });
  });
});

describe('add-server --url / --header', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgw-remote-cli-'));
    await writeConfig(dir, { publicUrl: 'http://127.0.0.1:8080', provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'] } as never);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the URL and header names to the YAML and the values to a 0600 secret; list shows the URL', async () => {
    let out = '';
    const output = { stdout: (text: string) => void (out += text), stderr: () => {} };
    await runAddServer(
      { dir, name: 'docs', url: 'https://mcp.example.com/mcp', header: ['Authorization=Bearer sk-secret', 'X-Team=core'], description: 'Docs' },
      { output },
    );
    const yaml = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
    expect(parse(yaml).servers.docs).toEqual({ url: 'https://mcp.example.com/mcp', headers: ['Authorization', 'X-Team'], description: 'Docs' });
    expect(yaml).not.toContain('sk-secret');
    expect(out).not.toContain('sk-secret');
    const secret = join(dir, '.secrets', 'servers', 'docs.headers.json');
    expect((await stat(secret)).mode & 0o777).toBe(0o600);
    expect(await readServerHeaders(projectPaths(dir), 'docs', ['Authorization', 'X-Team'])).toEqual({ Authorization: 'Bearer sk-secret', 'X-Team': 'core' });
    let listed = '';
    await runList({ dir }, { output: { stdout: (text) => void (listed += text), stderr: () => {} } });
    expect(listed).toContain('-> https://mcp.example.com/mcp');
    expect((await loadConfig(dir)).servers['docs']).toMatchObject({ url: new URL('https://mcp.example.com/mcp') });
  });

  it('refuses plain http to a remote host, a reserved header, and --header without --url', async () => {
    const output = { stdout: () => {}, stderr: () => {} };
    await expect(runAddServer({ dir, name: 'plain', url: 'http://mcp.example.com/mcp' }, { output })).rejects.toMatchObject({ code: 'ERR_USAGE' });
    await expect(runAddServer({ dir, name: 'host', url: 'https://mcp.example.com/mcp', header: ['Host=evil'] }, { output })).rejects.toMatchObject({
      code: 'ERR_USAGE',
    });
    await expect(runAddServer({ dir, name: 'stdio', command: 'node x.js', header: ['X-Api-Key=1'] }, { output })).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});

/** A 2026-07-28 request, as a modern client sends it. */
function modernRequest(
  token: string,
  method: string,
  params: Record<string, unknown> = {},
  name?: string,
  capabilities: Record<string, unknown> = {},
  version = '2026-07-28',
): RequestInit {
  return {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': version,
      'mcp-method': method,
      ...(name === undefined ? {} : { 'mcp-name': name }),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 8,
      method,
      params: { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientCapabilities': capabilities } },
    }),
  };
}

describe('remote servers and 2026-07-28 clients', () => {
  let legacy: Upstream;
  let modernSeen: IncomingHttpHeaders[];
  let modern: Server;
  let gw: LocalGateway;

  beforeAll(async () => {
    legacy = await startUpstream();
    modernSeen = [];
    // A stateless 2026-07-28 server: answers tools/list, and -32022 for a version it does not speak.
    modern = createServer(async (req, res) => {
      modernSeen.push(req.headers);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number; method: string };
      const version = req.headers['mcp-protocol-version'];
      if (body.method === 'server/discover') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: body.id,
            result: { resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, ttlMs: 0, cacheScope: 'public' },
          }),
        );
        return;
      }
      if (body.method !== 'tools/list') {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: -32601, message: 'Method not found' } }));
        return;
      }
      const reply =
        version === '2026-07-28'
          ? {
              jsonrpc: '2.0',
              id: body.id,
              result: { resultType: 'complete', tools: [{ name: 'modern-tool', inputSchema: { type: 'object' } }], ttlMs: 0, cacheScope: 'private' },
            }
          : {
              jsonrpc: '2.0',
              id: body.id,
              error: { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28'], requested: version } },
            };
      res.writeHead('result' in reply ? 200 : 400, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
    await new Promise<void>((resolve) => modern.listen(0, '127.0.0.1', resolve));
    const modernUrl = `http://127.0.0.1:${(modern.address() as AddressInfo).port}/mcp`;
    gw = await startLocalGateway(
      { servers: { old: { url: legacy.url, headers: ['X-Api-Key'] }, new: { url: modernUrl } } },
      { upstreamHeaders: { old: { 'X-Api-Key': API_KEY } } },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await legacy?.close();
    modern?.closeAllConnections();
    await new Promise((resolve) => modern?.close(resolve));
  });

  it('passes a 2026-07-28 request to a server that speaks it, headers included, and its answer back', async () => {
    const request = modernRequest(await gw.token('new'), 'tools/list');
    const res = await fetch(gw.urls.resourceFor('new'), {
      ...request,
      headers: { ...(request.headers as Record<string, string>), 'mcp-param-region': 'us-west1' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 8, result: { resultType: 'complete', tools: [{ name: 'modern-tool' }] } });
    expect(modernSeen.at(-1)).toMatchObject({ 'mcp-method': 'tools/list', 'mcp-protocol-version': '2026-07-28', 'mcp-param-region': 'us-west1' });
    expect(modernSeen.at(-1)?.['authorization']).toBeUndefined();
  });

  it("passes the server's own modern error on as is", async () => {
    const res = await fetch(gw.urls.resourceFor('new'), modernRequest(await gw.token('new'), 'tools/list', {}, undefined, {}, '2027-01-01'));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32022, data: { supported: ['2026-07-28'] } } });
  });

  it("passes the server's 404 with -32601 for a method it does not serve", async () => {
    const res = await fetch(gw.urls.resourceFor('new'), modernRequest(await gw.token('new'), 'prompts/list'));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: -32601 } });
  });

  it('translates for a 2025-only server: tools/list and tools/call on a session of its own, the client never sees one', async () => {
    const token = await gw.token('old');
    const res = await fetch(gw.urls.resourceFor('old'), modernRequest(token, 'tools/list'));
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    const list = (await res.json()) as { result: { resultType: string; tools: Array<{ name: string }> } };
    expect(list.result.resultType).toBe('complete');
    expect(list.result.tools.map((tool) => tool.name)).toContain('echo');
    const call = await fetch(gw.urls.resourceFor('old'), modernRequest(token, 'tools/call', { name: 'echo', arguments: { text: 'translated' } }, 'echo'));
    expect(await call.json()).toMatchObject({ result: { resultType: 'complete', content: [{ type: 'text', text: 'translated' }] } });
    // The upstream saw the gateway's key, never the client's token.
    for (const headers of legacy.seen) {
      expect(headers['x-api-key']).toBe(API_KEY);
      expect(JSON.stringify(headers)).not.toContain(token);
    }
  });

  it("turns the 2025 server's sampling request into input_required, and the retry's answer completes the call", async () => {
    const token = await gw.token('old', 'bob');
    const capabilities = { sampling: {} };
    const first = await fetch(gw.urls.resourceFor('old'), modernRequest(token, 'tools/call', { name: 'sample', arguments: {} }, 'sample', capabilities));
    const asked = (await first.json()) as { result: { resultType: string; inputRequests: Record<string, { method: string }>; requestState: string } };
    expect(asked.result.resultType).toBe('input_required');
    const [key, input] = Object.entries(asked.result.inputRequests)[0]!;
    expect(input.method).toBe('sampling/createMessage');
    const answer = { role: 'assistant', content: { type: 'text', text: 'from the 2026 client' }, model: 'm' };
    const done = await fetch(
      gw.urls.resourceFor('old'),
      modernRequest(
        token,
        'tools/call',
        { name: 'sample', arguments: {}, inputResponses: { [key]: answer }, requestState: asked.result.requestState },
        'sample',
        capabilities,
      ),
    );
    expect(await done.json()).toMatchObject({ result: { content: [{ type: 'text', text: 'from the 2026 client' }] } });
  });
});
