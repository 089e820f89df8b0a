import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

/**
 * HTTP without fetch's guard rails, for hostile-input tests: the path goes out exactly as given
 * (no dot-segment normalisation), headers may repeat or be huge, and every request uses a fresh
 * connection so a server that closes one (431, parse errors) cannot stall the next.
 */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string | undefined;
  /** Request target exactly as sent: `/..%2fregister`, `//register`, an absolute URL... */
  path: string;
  /** Any header may repeat (an array sends one line per value), Authorization included. */
  headers?: Record<string, string | string[] | number> | undefined;
  body?: string | Buffer | undefined;
}

const TIMEOUT_MS = 5_000;

export function send(origin: string, { method = 'GET', path, headers = {}, body }: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers: headers as OutgoingHttpHeaders, agent: false, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path.slice(0, 80)}: no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Writes bytes to the server as they are (malformed request lines, control characters in header
 * values, lying Content-Length) and returns the status of the first response, or 0 when the
 * server closed the connection without answering (what Node does for CONNECT and upgrades).
 */
export function sendBytes(
  origin: string,
  bytes: string | Buffer,
  { halfClose = true }: { halfClose?: boolean } = {},
): Promise<{ status: number; head: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('no answer from the server')));
    socket.on('connect', () => {
      socket.write(bytes);
      if (halfClose) socket.end();
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? finish() : reject(err)));
    socket.on('close', finish);
    function finish(): void {
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : 0, head: text.split('\r\n\r\n', 1)[0] ?? '' });
    }
  });
}
