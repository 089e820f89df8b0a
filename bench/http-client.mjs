// A lean Streamable HTTP MCP client for the benchmark: one keep-alive agent, hand-built
// JSON-RPC bodies, and just enough parsing to find the response (JSON, or the SSE event that
// carries it). Every HTTP target is driven by this same client, so differences between targets
// are the servers', not the client's. Two eras: a 2025 session (initialize, then Mcp-Session-Id
// on every request) and 2026-07-28 stateless requests (statelessTarget: no initialize, no session).
import { Agent, request } from 'node:http';

const ACCEPT = 'application/json, text/event-stream';

export class HttpMcpTarget {
  /** @param {string} url @param {Record<string, string>} [headers] */
  constructor(url, headers = {}) {
    this.url = new URL(url);
    this.headers = headers;
    // `timeout`: an idle socket is dropped after 3 s, before the servers' keep-alive timeout (5 s,
    // Node's default) closes it. Without it Node 20's agent keeps idle sockets with no timeout and
    // can send a request on one the server is just closing: the likely cause of two "socket hang
    // up" failures, both when a target's warm-up began about 5 s after its sessions were opened.
    // Sockets with a request in flight are not affected (the agent only destroys free ones).
    this.agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 3_000 });
  }

  /** @returns {Promise<{ status: number, headers: import('node:http').IncomingHttpHeaders, body: string }>} */
  send(method, extraHeaders, body) {
    return new Promise((resolve, reject) => {
      const headers = { ...this.headers, ...extraHeaders };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      const req = request({ host: this.url.hostname, port: this.url.port, path: this.url.pathname, method, headers, agent: this.agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async openSession(protocolVersion = '2025-06-18') {
    const init = await this.send(
      'POST',
      { accept: ACCEPT },
      JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion, capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
      }),
    );
    if (init.status !== 200) throw new Error(`initialize: HTTP ${init.status} ${init.body.slice(0, 200)}`);
    const session = /** @type {string} */ (init.headers['mcp-session-id']);
    const headers = { accept: ACCEPT, 'mcp-session-id': session, 'mcp-protocol-version': protocolVersion };
    const initialized = await this.send('POST', headers, '{"jsonrpc":"2.0","method":"notifications/initialized"}');
    if (initialized.status !== 202) throw new Error(`notifications/initialized: HTTP ${initialized.status}`);
    return new HttpSession(this, session, headers);
  }

  close() {
    this.agent.destroy();
  }
}

export class HttpSession {
  constructor(target, id, headers) {
    this.target = target;
    this.id = id;
    this.headers = headers;
    this.nextId = 1;
  }

  /** tools/call of any tool, outside the measured loops; resolves with the JSON-RPC answer (a result or an error). */
  async callTool(name, args = {}) {
    const id = this.nextId++;
    const res = await this.target.send('POST', this.headers, JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }));
    if (res.status !== 200) throw new Error(`tools/call ${name}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    return parseResponse(res);
  }

  /** tools/call echo; resolves with the echoed text. */
  async echo(text) {
    const id = this.nextId++;
    const res = await this.target.send(
      'POST',
      this.headers,
      `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":${JSON.stringify(text)}}}}`,
    );
    if (res.status !== 200) throw new Error(`tools/call: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    const message = parseResponse(res);
    const out = message?.result?.content?.[0]?.text;
    if (out !== text) throw new Error(`unexpected answer: ${res.body.slice(0, 200)}`);
    return out;
  }

  async close() {
    await this.target.send('DELETE', this.headers);
  }
}

const MODERN_VERSION = '2026-07-28';

/**
 * The same target driven by a 2026-07-28 client: every tools/call stands alone, its version in
 * the MCP-Protocol-Version header and in `_meta`, its method and tool name mirrored in Mcp-Method
 * and Mcp-Name (streamable-http.mdx), no Mcp-Session-Id. Quacks like an HttpMcpTarget: a
 * "session" is only a slot with its own request ids.
 * @param {HttpMcpTarget} target
 */
export function statelessTarget(target) {
  return {
    openSession: async () => new StatelessSession(target),
    close: () => target.close(),
  };
}

class StatelessSession {
  /** @param {HttpMcpTarget} target */
  constructor(target) {
    this.target = target;
    this.headers = { accept: ACCEPT, 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
    this.meta = JSON.stringify({ 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': {} });
    this.nextId = 1;
  }

  /** tools/call echo; resolves with the echoed text. */
  async echo(text) {
    const id = this.nextId++;
    const res = await this.target.send(
      'POST',
      this.headers,
      `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":${JSON.stringify(text)}},"_meta":${this.meta}}}`,
    );
    if (res.status !== 200) throw new Error(`tools/call (${MODERN_VERSION}): HTTP ${res.status} ${res.body.slice(0, 200)}`);
    const message = parseResponse(res);
    if (message?.result?.resultType !== 'complete' || message.result.content?.[0]?.text !== text) {
      throw new Error(`unexpected answer (${MODERN_VERSION}): ${res.body.slice(0, 200)}`);
    }
    return text;
  }

  /** Nothing to end: 2026-07-28 has no session (a DELETE would get 405). */
  async close() {}
}

function parseResponse(res) {
  if (String(res.headers['content-type']).startsWith('text/event-stream')) {
    for (const line of res.body.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const message = JSON.parse(line.slice(5));
      if ('result' in message || 'error' in message) return message;
    }
    return undefined;
  }
  return JSON.parse(res.body);
}
