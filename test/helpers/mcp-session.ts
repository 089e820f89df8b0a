/**
 * A 2025-era Streamable HTTP client made of plain fetch calls, for tests that must send what an
 * SDK client would not (batches, hostile tool names, forged headers) and see the HTTP status and
 * headers of every answer. Answers in JSON and in SSE are read the same way.
 */

export interface JsonRpcError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: JsonRpcError;
}

export interface McpReply {
  status: number;
  headers: Headers;
  /** Every JSON-RPC message of the body (a JSON message, a JSON batch, or SSE events' data). */
  messages: JsonRpcMessage[];
  text: string;
}

/** The answer to request `id` among a reply's messages. */
export function answerTo(reply: McpReply, id: string | number): JsonRpcMessage {
  const found = reply.messages.find((message) => message.id === id && (message.result !== undefined || message.error !== undefined));
  if (found === undefined) throw new Error(`no answer to ${JSON.stringify(id)} in ${reply.status} ${reply.text.slice(0, 500)}`);
  return found;
}

export function toolNames(message: JsonRpcMessage): string[] {
  const tools = message.result?.['tools'];
  if (!Array.isArray(tools)) throw new Error(`not a tools/list result: ${JSON.stringify(message)}`);
  return tools.map((tool: { name: string }) => tool.name).sort();
}

async function readReply(res: Response): Promise<McpReply> {
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const messages: JsonRpcMessage[] = [];
  if (type.startsWith('text/event-stream')) {
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
      if (data.length === 0) continue;
      const parsed = JSON.parse(data.join('\n')) as JsonRpcMessage | JsonRpcMessage[];
      messages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
    }
  } else if (type.startsWith('application/json') && text !== '') {
    const parsed = JSON.parse(text) as JsonRpcMessage | JsonRpcMessage[];
    messages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  }
  return { status: res.status, headers: res.headers, messages, text };
}

export interface RawSessionOptions {
  protocolVersion?: string;
  /** Sent with every request (e.g. a forged X-User-Groups). */
  headers?: Record<string, string>;
  /** `application/json` only, to ask a remote server for JSON answers; both by default. */
  accept?: string;
}

export class RawMcpSession {
  #nextId = 1;

  private constructor(
    readonly endpoint: string,
    readonly token: string,
    readonly sessionId: string | undefined,
    readonly protocolVersion: string,
    readonly options: RawSessionOptions,
  ) {}

  /** initialize, then notifications/initialized; throws unless the server accepted. */
  static async open(endpoint: string, token: string, options: RawSessionOptions = {}): Promise<RawMcpSession> {
    const protocolVersion = options.protocolVersion ?? '2025-06-18';
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: RawMcpSession.#headers(token, options),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion, capabilities: {}, clientInfo: { name: 'tool-access', version: '1' } },
      }),
    });
    const reply = await readReply(res);
    if (reply.status !== 200) throw new Error(`initialize: ${reply.status} ${reply.text.slice(0, 300)}`);
    const negotiated = answerTo(reply, 0).result?.['protocolVersion'];
    if (negotiated !== protocolVersion) throw new Error(`initialize negotiated ${String(negotiated)}, not ${protocolVersion}`);
    const session = new RawMcpSession(endpoint, token, res.headers.get('mcp-session-id') ?? undefined, protocolVersion, options);
    const initialized = await session.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (initialized.status !== 202) throw new Error(`notifications/initialized: ${initialized.status} ${initialized.text}`);
    return session;
  }

  static #headers(token: string, options: RawSessionOptions): Record<string, string> {
    return {
      'content-type': 'application/json',
      accept: options.accept ?? 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
      ...options.headers,
    };
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** One POST of `body` (a message or a batch) in this session. */
  async post(body: unknown): Promise<McpReply> {
    const res = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        ...RawMcpSession.#headers(this.token, this.options),
        'mcp-protocol-version': this.protocolVersion,
        ...(this.sessionId === undefined ? {} : { 'mcp-session-id': this.sessionId }),
      },
      body: JSON.stringify(body),
    });
    return readReply(res);
  }

  request(method: string, params: Record<string, unknown> = {}): { id: number; body: JsonRpcMessage } {
    return { id: this.#nextId, body: { jsonrpc: '2.0', id: this.#nextId++, method, params } };
  }

  /** One request on its own: the reply and the answer in it. */
  async send(method: string, params: Record<string, unknown> = {}): Promise<{ reply: McpReply; answer: JsonRpcMessage }> {
    const { id, body } = this.request(method, params);
    const reply = await this.post(body);
    return { reply, answer: answerTo(reply, id) };
  }

  callTool(name: string, args: Record<string, unknown> = {}): Promise<{ reply: McpReply; answer: JsonRpcMessage }> {
    return this.send('tools/call', { name, arguments: args });
  }

  async listTools(): Promise<string[]> {
    const { reply, answer } = await this.send('tools/list');
    if (reply.status !== 200) throw new Error(`tools/list: ${reply.status} ${reply.text}`);
    return toolNames(answer);
  }

  async close(): Promise<void> {
    if (this.sessionId === undefined) return;
    await fetch(this.endpoint, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${this.token}`, 'mcp-session-id': this.sessionId, 'mcp-protocol-version': this.protocolVersion },
    });
  }
}
