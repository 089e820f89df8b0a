import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A remote MCP server and/or its authorization server, as far as discovery and registration see
 * them: real HTTP on a loopback address, answering each `METHOD path` (or any method on `path`)
 * with what the test configured, 404 otherwise, and recording every request in order.
 */

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface MetadataStandIn {
  /** `http://127.0.0.1:PORT` (or `http://[::1]:PORT`), no trailing slash. */
  base: string;
  routes: Map<string, Handler>;
  requests: RecordedRequest[];
  /** Serves `handler` for `route`: `/path` for any method, or `POST /path`. */
  on(route: string, handler: Handler): void;
  /** The paths requested, in order, each prefixed with its method (`GET /.well-known/…`). */
  seen(): string[];
  close(): Promise<void>;
}

export async function startMetadataStandIn(host = '127.0.0.1'): Promise<MetadataStandIn> {
  const routes = new Map<string, Handler>();
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const method = req.method ?? 'GET';
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method, path, headers: req.headers, body });
      const handler = routes.get(`${method} ${path}`) ?? routes.get(path);
      if (handler) handler(req, res, body);
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    routes,
    requests,
    on: (route, handler) => void routes.set(route, handler),
    seen: () => requests.map((r) => `${r.method} ${r.path}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** 200 (or `status`) with `doc` as application/json. */
export function json(doc: unknown, { status = 200, headers = {} }: { status?: number; headers?: Record<string, string> } = {}): Handler {
  const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
  return (_req, res) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
}

/** Any status, headers and body. */
export function reply(status: number, headers: Record<string, string> = {}, body = ''): Handler {
  return (_req, res) => res.writeHead(status, headers).end(body);
}

/** Headers sent, then nothing: the body never completes. */
export const hang: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{');
};

/** The 401 an MCP server that wants OAuth answers an unauthenticated request with. */
export function challenge(params: string): Handler {
  return reply(401, { 'www-authenticate': params, 'content-type': 'application/json' }, '{"error":"unauthorized"}');
}

export function resourceMetadata(resource: string, authorizationServers: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { resource, authorization_servers: authorizationServers, ...extra };
}

/** Well-formed RFC 8414 metadata for `issuer`, its endpoints on the issuer's origin. */
export function authorizationServerMetadata(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = issuer.replace(/\/$/, '');
  return {
    issuer,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    ...extra,
  };
}
