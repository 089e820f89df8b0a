import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BearerForwarder {
  /** `http://127.0.0.1:PORT`: where clients connect, and the Origin a same-origin page would send. */
  origin: string;
  close(): Promise<void>;
}

/**
 * An HTTP forwarder that adds `Authorization: Bearer <token>` to every request and passes it on to
 * `target` (same path and query), streaming both ways: for a client that cannot send a token, such
 * as the MCP conformance suite's `server` runner. Everything else goes through as it came, Host and
 * Origin included, so the gateway judges the client's own headers (dns-rebinding-protection sends a
 * foreign Host and Origin on purpose).
 */
export async function startBearerForwarder({ target, token, port = 0 }: { target: URL; token: string; port?: number }): Promise<BearerForwarder> {
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, authorization: `Bearer ${token}` } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    // A client that stops reading an SSE stream closes its connection: the gateway must see the
    // same, or the stream stays open there.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };
  const server = createServer(forward);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
