import { readdirSync, readFileSync } from 'node:fs';
import { afterEach } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../runtime/logger.js';
import { createStdioBridge, type BridgeOptions } from '../../runtime/bridge/streamable-http-bridge.js';
import type { Bridge } from '../../runtime/bridge/bridge.js';
import { watchdogPid } from '../../runtime/bridge/orphan-watchdog.js';

export const ECHO_SERVER = fileURLToPath(new URL('../fixtures/echo-mcp-server.mjs', import.meta.url));
export const BOTH = 'application/json, text/event-stream';

export interface BridgeHarness {
  bridge: Bridge;
  url: string;
  /** Every request the bridge saw, with its response (to cut a GET stream from the server side). */
  requests: Array<{ req: IncomingMessage; res: ServerResponse }>;
  stop(): Promise<void>;
}

/** A bridge behind node:http on 127.0.0.1:0, by default in front of the echo fixture. */
/**
 * For a test file: a `startBridge` whose bridges are all stopped after each test (call once at
 * the top level of the file; it registers the afterEach hook).
 */
export function bridgesStoppedAfterEach(): (...args: Parameters<typeof startBridge>) => Promise<BridgeHarness> {
  const running: BridgeHarness[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((h) => h.stop()));
  });
  return async (...args) => {
    const h = await startBridge(...args);
    running.push(h);
    return h;
  };
}

export async function startBridge(overrides: Partial<BridgeOptions> = {}): Promise<BridgeHarness> {
  const bridge = createStdioBridge({
    serverName: 'test',
    launch: { command: process.execPath, args: [ECHO_SERVER], env: {} },
    logger: silentLogger(),
    ...overrides,
  });
  const requests: BridgeHarness['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ req, res });
    void bridge.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    bridge,
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    async stop() {
      await bridge.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface PostOptions {
  sub?: string;
  session?: string;
  version?: string;
  accept?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function post(url: string, body: unknown, options: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: options.accept ?? BOTH,
    'x-user-sub': options.sub ?? 'alice',
    ...options.headers,
  };
  if (options.session !== undefined) headers['mcp-session-id'] = options.session;
  if (options.version !== undefined) headers['mcp-protocol-version'] = options.version;
  return fetch(url, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

export const initializeRequest = (protocolVersion = '2025-06-18', capabilities: Record<string, unknown> = {}, id: number | string = 0) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities, clientInfo: { name: 'bridge-test', version: '1.0.0' } },
});

/** initialize + notifications/initialized; returns the session id. */
export async function openSession(url: string, { sub = 'alice', version = '2025-06-18', capabilities = {} as Record<string, unknown> } = {}): Promise<string> {
  const res = await post(url, initializeRequest(version, capabilities), { sub });
  if (res.status !== 200) throw new Error(`initialize: HTTP ${res.status} ${await res.text()}`);
  await res.text();
  const session = res.headers.get('mcp-session-id')!;
  const initialized = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { sub, session, version });
  if (initialized.status !== 202) throw new Error(`notifications/initialized: HTTP ${initialized.status}`);
  return session;
}

let nextId = 1000;
export function callTool(url: string, session: string, name: string, args: Record<string, unknown> = {}, options: PostOptions = {}): Promise<Response> {
  return post(url, { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args } }, { session, version: '2025-06-18', ...options });
}

export async function toolText(res: Response): Promise<string> {
  const body = (await res.json()) as { result?: { content: Array<{ text: string }> }; error?: unknown };
  if (body.result === undefined) throw new Error(`tool call failed: ${JSON.stringify(body)}`);
  return body.result.content[0]!.text;
}

export function deleteSession(url: string, session: string, sub = 'alice'): Promise<Response> {
  return fetch(url, { method: 'DELETE', headers: { 'x-user-sub': sub, 'mcp-session-id': session } });
}

export interface SseEvent {
  id?: string;
  data: string;
}

/** Reads SSE events off a response as they arrive. */
export function sseEvents(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  return {
    async next(): Promise<SseEvent | undefined> {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end !== -1) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const lines = block.split('\n');
          if (lines.every((line) => line.startsWith(':'))) continue; // a comment (keepalive)
          const id = lines.find((line) => line.startsWith('id: '))?.slice(4);
          const data = lines.find((line) => line.startsWith('data:'))?.replace(/^data: ?/, '') ?? '';
          return id === undefined ? { data } : { id, data };
        }
        const { value, done } = await reader.read();
        if (done) return undefined;
        buffered += value;
      }
    },
    /** The next event's data as JSON (skips priming events with empty data). */
    async message(): Promise<Record<string, any> | undefined> {
      for (;;) {
        const event = await this.next();
        if (event === undefined) return undefined;
        if (event.data !== '') return { ...JSON.parse(event.data), ...(event.id === undefined ? {} : { eventId: event.id }) };
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

export function openGetStream(url: string, session: string, options: { sub?: string; lastEventId?: string; signal?: AbortSignal } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/event-stream', 'x-user-sub': options.sub ?? 'alice', 'mcp-session-id': session };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  return fetch(url, { headers, ...(options.signal ? { signal: options.signal } : {}) });
}

/**
 * Whether `pid` still runs. A zombie does not: a sandboxed server whose bwrap exited first is
 * reparented to PID 1, and in a container whose PID 1 never reaps it stays a zombie forever.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/**
 * Processes whose parent is this one (the bridge's children, zombies included; not the orphan
 * watchdog, which lives as long as the test process): none must be
 * left once the sessions that started them are gone.
 */
export function childProcesses(parent = process.pid): Array<{ pid: number; state: string }> {
  const found: Array<{ pid: number; state: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === parent && Number(entry) !== watchdogPid()) found.push({ pid: Number(entry), state: fields[0]! });
  }
  return found;
}

/**
 * Every live descendant of `root`, as host pids. A sandboxed server reports pid 1 or 2 from
 * inside its own pid namespace, so tests that check no child outlives the gateway look here.
 */
export function descendantPids(root: number): number[] {
  const found: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    for (const { pid } of childProcesses(frontier.pop())) {
      found.push(pid);
      frontier.push(pid);
    }
  }
  return found;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
