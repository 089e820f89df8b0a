import { randomBytes, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import { gatewayUrls, type GatewayUrls } from '../runtime/auth/gateway-urls.js';
import { ephemeralKeySet, type KeySet } from '../runtime/auth/tokens/signing-keys.js';
import { createLocalLogin } from '../runtime/auth/upstream/local-login.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { startGateway, type RunningGateway } from '../runtime/gateway.js';
import { silentLogger } from '../runtime/logger.js';
import { createEmbeddedStore } from '../runtime/store/embedded-store.js';
import { generateStoredKey, keySetFromJson } from '../runtime/auth/tokens/signing-keys.js';
import { startAuthRuntimeFromEnv } from '../runtime/entrypoints/auth-runtime.js';
import { startBridgeRuntimeFromEnv } from '../runtime/entrypoints/bridge-runtime.js';
import type { RunningRuntime, RuntimeAddress } from '../runtime/entrypoints/http-runtime.js';
import { startRouterRuntimeFromEnv } from '../runtime/entrypoints/router-runtime.js';
import { freePort } from './helpers/free-port.js';
import { ECHO_FIXTURE } from './helpers/gateway-harness.js';
import { RawMcpSession } from './helpers/mcp-session.js';
import { tempProjectDir } from './helpers/temp-project.js';

/*
 * OpenTelemetry traces of the embedded gateway (runtime/tracing/), collected as the exporter sends
 * them: an OTLP/HTTP receiver on 127.0.0.1 decodes each export request (OTLP JSON, which the
 * http exporter sends; a protobuf body fails the test rather than being skipped). The gateway
 * serves the echo fixture over stdio and a remote server (the MCP SDK's Streamable HTTP server,
 * in this process, recording the trace headers it receives).
 */

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
  status?: { code?: number };
}
interface ExportRequest {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: OtlpValue }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

/** A span as the tests read it: attributes as plain values, the resource's service.name beside. */
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  status: number;
  service: string;
}

const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;

function plain(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.boolValue !== undefined) return value.boolValue;
  throw new Error(`unexpected attribute value ${JSON.stringify(value)}`);
}

function attributesOf(list: Array<{ key: string; value: OtlpValue }> | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]));
}

interface Receiver {
  url: string;
  spans: Span[];
  /** Every export request body, as received. */
  bodies: string[];
  contentTypes: string[];
  /** Waits until `pick` finds what it wants among the spans so far. */
  waitFor<T>(pick: (spans: Span[]) => T | undefined, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const spans: Span[] = [];
  const bodies: string[] = [];
  const contentTypes: string[] = [];
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    contentTypes.push(req.headers['content-type'] ?? '');
    bodies.push(body);
    if (req.method !== 'POST' || req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/json') {
      res.writeHead(415).end();
      return;
    }
    const request = JSON.parse(body) as ExportRequest;
    for (const { resource, scopeSpans } of request.resourceSpans) {
      const service = String(attributesOf(resource.attributes)['service.name']);
      for (const { spans: list } of scopeSpans) {
        for (const span of list) {
          spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId === undefined || span.parentSpanId === '' ? undefined : span.parentSpanId,
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            status: span.status?.code ?? 0,
            service,
          });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    spans,
    bodies,
    contentTypes,
    async waitFor(pick, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = pick(spans);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`spans not received in time; have ${JSON.stringify(spans.map((s) => [s.name, s.attributes]))}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

interface Upstream {
  url: string;
  /** The trace headers of each request the upstream received, with its JSON-RPC method. */
  received: Array<{ method: string | undefined; traceparent: string | undefined; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const received: Upstream['received'] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { method?: string }) : undefined;
    const traceparent = req.headers['traceparent'];
    received.push({ method: body?.method, traceparent: typeof traceparent === 'string' ? traceparent : undefined, headers: req.headers });
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (transport === undefined && id === undefined && isInitializeRequest(body)) {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: true,
        onsessioninitialized: (sid) => void sessions.set(sid, created),
      });
      const server = new McpServer({ name: 'remote-echo', version: '1.0.0' });
      server.registerTool('shout', { description: 'upper-cases its text', inputSchema: { text: z.string() } }, async ({ text }) => ({
        content: [{ type: 'text', text: text.toUpperCase() }],
      }));
      await server.connect(created);
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
    received,
    async close() {
      await Promise.all([...sessions.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

interface TracedGateway {
  gateway: RunningGateway;
  urls: GatewayUrls;
  token(server: string): Promise<string>;
  close(): Promise<void>;
}

/** The embedded gateway with `otelEnv` as its OTEL_* variables; tokens are minted with its keys, as the token endpoint would after a login. */
async function startTracedGateway(otelEnv: Record<string, string>, servers: Record<string, unknown>): Promise<TracedGateway> {
  const port = await freePort();
  const config = parseConfig(
    { publicUrl: `http://127.0.0.1:${port}`, provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'], servers },
    'tracing test config',
  );
  const urls = gatewayUrls(config);
  const keys: KeySet = await ephemeralKeySet();
  const store = await createEmbeddedStore();
  const upstream = createLocalLogin({ store, user: 'alice', loginUrl: urls.localLogin, announce: () => {} });
  const project = tempProjectDir();
  const gateway = await startGateway({ config, store, keys, upstream, logger: silentLogger(), projectDir: project.dir, otelEnv }, { host: '127.0.0.1', port });
  return {
    gateway,
    urls,
    async token(server) {
      const claims = { sub: 'local:alice', login: 'alice', clientId: 'tracing-test', audience: urls.resourceFor(server) };
      return (await signAccessToken(claims, { keys, issuer: urls.issuer, ttlMs: 3_600_000, now: Date.now() })).token;
    },
    async close() {
      await gateway.close();
      project.remove();
    },
  };
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const byId = (spans: Span[], id: string | undefined): Span | undefined => spans.find((span) => span.spanId === id);

/** The first mcp.call span after `after` of a tools/call of `tool` on `server`. */
function callOf(spans: Span[], server: string, tool: string, after: number): Span | undefined {
  return spans.slice(after).find((span) => span.name === 'mcp.call' && span.attributes['mcp.server'] === server && span.attributes['mcp.tool'] === tool);
}

describe('OpenTelemetry traces', () => {
  let receiver: Receiver;
  let upstream: Upstream;
  let gw: TracedGateway;
  const open: RawMcpSession[] = [];

  beforeAll(async () => {
    receiver = await startReceiver();
    upstream = await startUpstream();
    gw = await startTracedGateway(
      // A short batch delay, so a test waits milliseconds for its spans, not the default 5 s.
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '20' },
      {
        echo: { command: process.execPath, args: [ECHO_FIXTURE], tools: { deny: ['pid'] } },
        limited: { command: process.execPath, args: [ECHO_FIXTURE], rateLimit: { tools: { echo: '1/1m' } } },
        remote: { url: upstream.url },
        warm: { command: process.execPath, args: [ECHO_FIXTURE], pool: 1 },
      },
    );
  });
  afterAll(async () => {
    await Promise.allSettled(open.map((session) => session.close()));
    await gw?.close();
    await upstream?.close();
    await receiver?.close();
  });

  async function session(server: string, headers: Record<string, string> = {}): Promise<RawMcpSession> {
    const opened = await RawMcpSession.open(gw.urls.resourceFor(server), await gw.token(server), { headers });
    open.push(opened);
    return opened;
  }

  it('records a tools/call as mcp.request > (mcp.verify, mcp.bridge > mcp.call), with server, method, tool and outcome', async () => {
    const s = await session('echo');
    const seen = receiver.spans.length;
    const { answer } = await s.callTool('echo', { text: 'hello' });
    expect(answer.result?.['content']).toEqual([{ type: 'text', text: 'hello' }]);

    const call = await receiver.waitFor((spans) => callOf(spans, 'echo', 'echo', seen));
    const tree = await receiver.waitFor((spans) => {
      const bridge = byId(spans, call.parentSpanId);
      const root = byId(spans, bridge?.parentSpanId);
      const verify = spans.find((span) => span.name === 'mcp.verify' && root !== undefined && span.parentSpanId === root.spanId);
      return bridge && root && verify ? { bridge, root, verify } : undefined;
    });
    expect(call.attributes).toEqual({ 'mcp.server': 'echo', 'mcp.method': 'tools/call', 'mcp.tool': 'echo', 'mcp.outcome': 'ok' });
    expect(call.kind).toBe(SPAN_KIND_INTERNAL);
    expect(tree.bridge.name).toBe('mcp.bridge');
    expect(tree.bridge.attributes).toEqual({ 'http.request.method': 'POST', 'mcp.server': 'echo', 'http.response.status_code': 200 });
    expect(tree.root.name).toBe('mcp.request');
    expect(tree.root.kind).toBe(SPAN_KIND_SERVER);
    expect(tree.root.parentSpanId).toBeUndefined();
    expect(tree.root.attributes).toEqual({
      'http.request.method': 'POST',
      'http.route': '/{server}/mcp',
      'mcp.server': 'echo',
      'http.response.status_code': 200,
    });
    expect(tree.verify.attributes).toEqual({ 'mcp.server': 'echo', 'mcp.verify.status': 200 });
    // One trace per MCP request.
    expect(new Set([call, tree.bridge, tree.root, tree.verify].map((span) => span.traceId)).size).toBe(1);
    expect(call.service).toBe('mcp-gateway');
  });

  it('records denied, limited and failed calls by their outcome', async () => {
    const echo = await session('echo');
    const limited = await session('limited');
    const seen = receiver.spans.length;
    expect((await echo.callTool('pid')).answer.error?.code).toBe(-32602);
    expect((await echo.callTool('no-such-tool')).answer).toBeDefined();
    expect((await limited.callTool('echo', { text: 'one' })).answer.result).toBeDefined();
    expect((await limited.callTool('echo', { text: 'two' })).reply.status).toBe(429);

    const denied = await receiver.waitFor((spans) => callOf(spans, 'echo', 'pid', seen));
    expect(denied.attributes['mcp.outcome']).toBe('denied');
    const unknown = await receiver.waitFor((spans) => callOf(spans, 'echo', 'no-such-tool', seen));
    expect(unknown.attributes['mcp.outcome']).toBe('error');
    expect(unknown.status).toBe(STATUS_ERROR);
    const outcomes = await receiver.waitFor((spans) => {
      const found = spans
        .slice(seen)
        .filter((span) => span.name === 'mcp.call' && span.attributes['mcp.server'] === 'limited' && span.attributes['mcp.tool'] === 'echo');
      return found.length === 2 ? found.map((span) => span.attributes['mcp.outcome']).sort() : undefined;
    });
    expect(outcomes).toEqual(['limited', 'ok']);
    const rejected = await receiver.waitFor((spans) =>
      spans
        .slice(seen)
        .find((span) => span.name === 'mcp.request' && span.attributes['mcp.server'] === 'limited' && span.attributes['http.response.status_code'] === 429),
    );
    expect(rejected.status).not.toBe(STATUS_ERROR); // a 4xx is the client's, not the gateway's error
  });

  it('records every request of a session, initialize and tools/list included, each in a trace of its own', async () => {
    const seen = receiver.spans.length;
    const s = await session('echo');
    await s.listTools();
    const methods = await receiver.waitFor((spans) => {
      const calls = spans.slice(seen).filter((span) => span.name === 'mcp.call' && span.attributes['mcp.server'] === 'echo');
      return calls.length >= 2 ? calls : undefined;
    });
    expect(methods.map((span) => span.attributes['mcp.method']).sort()).toEqual(['initialize', 'tools/list']);
    expect(methods.every((span) => span.attributes['mcp.outcome'] === 'ok')).toBe(true);
    expect(new Set(methods.map((span) => span.traceId)).size).toBe(2);
  });

  it("continues a client's trace when it sends a W3C traceparent", async () => {
    const traceId = hex(16);
    const parentId = hex(8);
    const s = await session('echo', { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'client=1' });
    const seen = receiver.spans.length;
    await s.callTool('add', { a: 1, b: 2 });
    const call = await receiver.waitFor((spans) => callOf(spans, 'echo', 'add', seen));
    expect(call.traceId).toBe(traceId);
    const root = await receiver.waitFor((spans) => byId(spans, byId(spans, call.parentSpanId)?.parentSpanId));
    expect(root.name).toBe('mcp.request');
    expect(root.parentSpanId).toBe(parentId);
  });

  it('ignores a malformed traceparent and starts a trace of its own', async () => {
    const bad = `00-${'0'.repeat(32)}-${hex(8)}-01`; // an all-zero trace id is invalid (W3C Trace Context §3.2.2.3)
    const s = await session('echo', { traceparent: bad });
    const garbled = await session('echo', { traceparent: 'not-a-traceparent' });
    const seen = receiver.spans.length;
    await s.callTool('add', { a: 2, b: 3 });
    await garbled.callTool('echo', { text: 'x' });
    for (const tool of ['add', 'echo']) {
      const call = await receiver.waitFor((spans) => callOf(spans, 'echo', tool, seen));
      expect(call.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(call.traceId).not.toBe('0'.repeat(32));
      const root = await receiver.waitFor((spans) => byId(spans, byId(spans, call.parentSpanId)?.parentSpanId));
      expect(root.parentSpanId).toBeUndefined();
    }
  });

  it("sends a remote upstream the traceparent of the call's span, never the client's", async () => {
    const traceId = hex(16);
    const clientParent = `00-${traceId}-${hex(8)}-01`;
    const s = await session('remote', { traceparent: clientParent });
    const seen = receiver.spans.length;
    const before = upstream.received.length;
    const { answer } = await s.callTool('shout', { text: 'quiet' });
    expect(answer.result?.['content']).toEqual([{ type: 'text', text: 'QUIET' }]);

    const sent = upstream.received.slice(before).find((request) => request.method === 'tools/call');
    const call = await receiver.waitFor((spans) => callOf(spans, 'remote', 'shout', seen));
    expect(call.attributes['mcp.outcome']).toBe('ok');
    expect(sent?.traceparent).toBe(`00-${traceId}-${call.spanId}-01`);
    // Not one request of the session reached the upstream with the client's header.
    expect(upstream.received.every((request) => request.traceparent !== clientParent)).toBe(true);
    expect(upstream.received.every((request) => request.traceparent !== undefined)).toBe(true);
  });

  it("records nothing of a request whose client's trace is not sampled, and passes the decision on upstream", async () => {
    const traceId = hex(16);
    const clientSpan = hex(8);
    const s = await session('remote', { traceparent: `00-${traceId}-${clientSpan}-00` });
    const before = upstream.received.length;
    await s.callTool('shout', { text: 'unsampled' });
    const sent = upstream.received.slice(before).find((request) => request.method === 'tools/call');
    expect(sent?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    expect(sent?.traceparent).not.toContain(clientSpan);
    // A later, sampled request's spans arriving shows the unsampled ones would have too.
    const marker = await session('echo');
    const seen = receiver.spans.length;
    await marker.callTool('add', { a: 7, b: 8 });
    await receiver.waitFor((spans) => callOf(spans, 'echo', 'add', seen));
    expect(receiver.spans.filter((span) => span.traceId === traceId)).toEqual([]);
  });

  it('records a 2026-07-28 (stateless) tools/call the same way', async () => {
    const seen = receiver.spans.length;
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'tracing-test', version: '1' },
    };
    const res = await fetch(gw.urls.resourceFor('echo'), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await gw.token('echo')}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'add',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'add', arguments: { a: 20, b: 22 }, _meta: meta } }),
    });
    expect(await res.text()).toContain('42');
    const call = await receiver.waitFor((spans) => callOf(spans, 'echo', 'add', seen));
    expect(call.attributes['mcp.outcome']).toBe('ok');
    const bridge = await receiver.waitFor((spans) => byId(spans, call.parentSpanId));
    expect(bridge.name).toBe('mcp.bridge');
  });

  it('ends the call span of an initialize answered from the warm pool, which never reaches a server', async () => {
    const seen = receiver.spans.length;
    await session('warm');
    const call = await receiver.waitFor((spans) =>
      spans.slice(seen).find((span) => span.name === 'mcp.call' && span.attributes['mcp.server'] === 'warm' && span.attributes['mcp.method'] === 'initialize'),
    );
    expect(call.attributes['mcp.outcome']).toBe('ok');
  });

  it("sends a remote upstream the bridge span's traceparent for a batch, with a call span per request", async () => {
    const opened = await RawMcpSession.open(gw.urls.resourceFor('remote'), await gw.token('remote'), { protocolVersion: '2025-03-26' });
    open.push(opened);
    const seen = receiver.spans.length;
    const before = upstream.received.length;
    const first = opened.request('tools/call', { name: 'shout', arguments: { text: 'a' } });
    const second = opened.request('tools/list');
    expect((await opened.post([first.body, second.body])).status).toBe(200);
    const calls = await receiver.waitFor((spans) => {
      // The session's initialize may still be on its way: spans are exported in batches.
      const found = spans
        .slice(seen)
        .filter((span) => span.name === 'mcp.call' && span.attributes['mcp.server'] === 'remote' && span.attributes['mcp.method'] !== 'initialize');
      return found.length === 2 ? found : undefined;
    });
    expect(calls.map((span) => span.attributes['mcp.method']).sort()).toEqual(['tools/call', 'tools/list']);
    const bridge = await receiver.waitFor((spans) => byId(spans, calls[0]!.parentSpanId));
    expect(calls[1]!.parentSpanId).toBe(bridge.spanId);
    const sent = upstream.received.slice(before).find((request) => request.method === undefined && request.traceparent !== undefined);
    expect(sent?.traceparent).toBe(`00-${bridge.traceId}-${bridge.spanId}-01`);
  });

  it('puts no bearer token, tool argument or result in any span', async () => {
    const marker = `argument-${hex(12)}`;
    const token = await gw.token('echo');
    const s = await RawMcpSession.open(gw.urls.resourceFor('echo'), token, { headers: { cookie: `session=${marker}-cookie` } });
    open.push(s);
    const remote = await session('remote');
    const seen = receiver.spans.length;
    await s.callTool('echo', { text: marker });
    await s.callTool('no-such-tool', { text: marker });
    await remote.callTool('shout', { text: marker });
    await receiver.waitFor((spans) => callOf(spans, 'remote', 'shout', seen));
    await receiver.waitFor((spans) => callOf(spans, 'echo', 'no-such-tool', seen));
    const everything = receiver.bodies.join('\n');
    expect(everything).not.toContain(marker);
    expect(everything).not.toContain(marker.toUpperCase());
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.split('.')[2]!);
    expect(everything.toLowerCase()).not.toContain('bearer');
    expect(everything).not.toContain(s.sessionId!);
  });

  it('sends OTLP JSON to the traces path of OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    expect(receiver.contentTypes.length).toBeGreaterThan(0);
    expect(new Set(receiver.contentTypes)).toEqual(new Set(['application/json']));
  });
});

describe('OpenTelemetry traces off', () => {
  it('exports nothing when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, whatever the endpoint', async () => {
    const receiver = await startReceiver();
    for (const off of [{ OTEL_SDK_DISABLED: 'true' }, { OTEL_TRACES_EXPORTER: 'none' }]) {
      const gw = await startTracedGateway(
        { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '20', ...off },
        {
          echo: { command: process.execPath, args: [ECHO_FIXTURE] },
        },
      );
      try {
        const s = await RawMcpSession.open(gw.urls.resourceFor('echo'), await gw.token('echo'));
        await s.callTool('echo', { text: 'unseen' });
        await s.close();
      } finally {
        await gw.close();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.bodies).toEqual([]);
    await receiver.close();
  });

  it('loads no OpenTelemetry SDK module in a gateway that served calls without OTEL_* variables', async () => {
    // A process of its own from the build: the test runner's module cache says nothing of serve's.
    const dist = fileURLToPath(new URL('../dist/runtime/', import.meta.url));
    const project = tempProjectDir();
    const script = join(project.dir, 'no-otel.mjs');
    writeFileSync(
      script,
      `
import { createRequire } from 'node:module';
const from = (path) => import(${JSON.stringify(`file://${dist}`)} + path);
const { startGateway } = await from('gateway.js');
const { parseConfig } = await from('config/load-config.js');
const { gatewayUrls } = await from('auth/gateway-urls.js');
const { ephemeralKeySet } = await from('auth/tokens/signing-keys.js');
const { signAccessToken } = await from('auth/tokens/access-token.js');
const { createLocalLogin } = await from('auth/upstream/local-login.js');
const { createEmbeddedStore } = await from('store/embedded-store.js');
const { silentLogger } = await from('logger.js');
const port = Number(process.argv[2]);
const config = parseConfig({ publicUrl: 'http://127.0.0.1:' + port, provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'],
  servers: { echo: { command: process.execPath, args: [${JSON.stringify(ECHO_FIXTURE)}] } } }, 'no-otel');
const urls = gatewayUrls(config);
const keys = await ephemeralKeySet();
const store = await createEmbeddedStore();
const upstream = createLocalLogin({ store, user: 'alice', loginUrl: urls.localLogin, announce: () => {} });
const gateway = await startGateway({ config, store, keys, upstream, logger: silentLogger(), projectDir: ${JSON.stringify(project.dir)} }, { host: '127.0.0.1', port });
const { token } = await signAccessToken({ sub: 'local:alice', login: 'alice', clientId: 't', audience: urls.resourceFor('echo') }, { keys, issuer: urls.issuer, ttlMs: 60_000, now: Date.now() });
const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json', accept: 'application/json, text/event-stream', traceparent: '00-${hex(16)}-${hex(8)}-01' };
const init = await fetch(urls.resourceFor('echo'), { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'n', version: '1' } } }) });
await init.text();
const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id'), 'mcp-protocol-version': '2025-06-18' };
await (await fetch(urls.resourceFor('echo'), { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
const call = await fetch(urls.resourceFor('echo'), { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }) });
const answered = (await call.text()).includes('"hi"');
await gateway.close();
// @opentelemetry/api is prom-client's (its process CPU counter reads the active span for exemplars); the SDK is ours alone.
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes('@opentelemetry/') && !path.includes('@opentelemetry/api/'));
console.log(JSON.stringify({ answered, loaded }));
`,
    );
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [script, String(await freePort())], { env, cwd: project.dir, timeout: 30_000 });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ answered: true, loaded: [] });
    } finally {
      project.remove();
    }
  });
});

describe('OpenTelemetry traces across the container runtimes', () => {
  it("links a bridge container's spans to the router's through the traceparent the router sends, not the client's", async () => {
    // The auth, router and bridge runtimes as their containers start them (…FromEnv), in this
    // process but each with a tracer of its own, talking over HTTP on 127.0.0.1.
    const receiver = await startReceiver();
    const project = tempProjectDir();
    const ports = { router: await freePort(), auth: await freePort(), echo: await freePort() };
    const raw = {
      version: 1,
      publicUrl: `http://127.0.0.1:${ports.router}`,
      provider: { type: 'local', user: 'alice' },
      allowedUsers: ['alice'],
      deploy: { router: 'builtin' },
      servers: { echo: { command: process.execPath, args: [ECHO_FIXTURE] } },
    };
    const configPath = join(project.dir, 'mcp-gateway.yaml');
    writeFileSync(configPath, stringify(raw));
    const signingKeys = JSON.stringify({ version: 1, keys: [await generateStoredKey()] });
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '20' };
    const env = { MCPGW_CONFIG: configPath, ...otel };
    const logger = silentLogger();
    const runtimes: Array<RunningRuntime<RuntimeAddress>> = [];
    try {
      runtimes.push(
        await startAuthRuntimeFromEnv({
          env: { ...env, MCPGW_LISTEN: `127.0.0.1:${ports.auth}`, MCPGW_SIGNING_KEYS: signingKeys, MCPGW_STATE_KEY: randomBytes(32).toString('base64url') },
          logger,
        }),
      );
      runtimes.push(
        await startBridgeRuntimeFromEnv({ serverName: 'echo', env: { ...env, MCPGW_LISTEN: `127.0.0.1:${ports.echo}` }, logger, cwd: project.dir }),
      );
      runtimes.push(
        await startRouterRuntimeFromEnv({
          env: {
            ...env,
            MCPGW_LISTEN: `127.0.0.1:${ports.router}`,
            MCPGW_AUTH_URL: `http://127.0.0.1:${ports.auth}`,
            MCPGW_BRIDGE_URL: `http://127.0.0.1:${ports.echo}`,
          },
          logger,
        }),
      );
      const urls = gatewayUrls(parseConfig(raw, 'tracing test config'));
      const keys = await keySetFromJson(signingKeys);
      const claims = { sub: 'local:alice', login: 'alice', clientId: 'tracing-test', audience: urls.resourceFor('echo') };
      const { token } = await signAccessToken(claims, { keys, issuer: urls.issuer, ttlMs: 3_600_000, now: Date.now() });
      const traceId = hex(16);
      const clientSpan = hex(8);
      const s = await RawMcpSession.open(urls.resourceFor('echo'), token, { headers: { traceparent: `00-${traceId}-${clientSpan}-01` } });
      const seen = receiver.spans.length;
      await s.callTool('add', { a: 4, b: 5 });
      await s.close();

      const call = await receiver.waitFor((spans) => callOf(spans, 'echo', 'add', seen));
      const bridge = await receiver.waitFor((spans) => byId(spans, call.parentSpanId));
      const root = await receiver.waitFor((spans) => byId(spans, bridge.parentSpanId));
      expect(bridge.name).toBe('mcp.bridge');
      expect(bridge.kind).toBe(SPAN_KIND_SERVER); // received over HTTP from the router
      expect(root.name).toBe('mcp.request');
      expect(root.parentSpanId).toBe(clientSpan);
      expect([call.traceId, bridge.traceId, root.traceId]).toEqual([traceId, traceId, traceId]);
      const verify = await receiver.waitFor((spans) => spans.find((span) => span.name === 'mcp.verify' && span.parentSpanId === root.spanId));
      expect(verify.attributes['mcp.verify.status']).toBe(200);
    } finally {
      for (const runtime of runtimes.reverse()) await runtime.close();
      await receiver.close();
      project.remove();
    }
  });
});
