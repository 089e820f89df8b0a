// A lean Streamable HTTP MCP client for the benchmark: one keep-alive agent, hand-built
// JSON-RPC bodies, and just enough parsing to find the response (JSON, or the SSE event that
// carries it). Every HTTP target is driven by this same client, so differences between targets
// are the servers', not the client's.
import { Agent, request } from 'node:http';

const ACCEPT = 'application/json, text/event-stream';

export class HttpMcpTarget {
  /** @param {string} url @param {Record<string, string>} [headers] */
  constructor(url, headers = {}) {
    this.url = new URL(url);
    this.headers = headers;
    this.agent = new Agent({ keepAlive: true, maxSockets: 256 });
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
