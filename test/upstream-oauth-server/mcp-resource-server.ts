import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';

/**
 * The upstream's MCP server: the SDK's McpServer behind its stateful Streamable HTTP transport at
 * `/mcp`, a resource server in the sense of RFC 9728 and the MCP authorization spec. Every request
 * needs a bearer JWT access token (RFC 9068) from the trusted authorization server with `aud` = this
 * resource; without one it answers 401 naming its metadata (RFC 9728 §5.1, RFC 6750 §3).
 *
 * Like any resource server that verifies JWTs locally, it does not learn of revocation at the
 * authorization server: a token stays good until it expires or `isExpired` says otherwise.
 */

export interface McpRequestRecord {
  method: string;
  /** Path with the query string, as sent. */
  url: string;
  /** The Authorization header exactly as received (so a test can see whose token came). */
  authorization: string | undefined;
  sessionId: string | undefined;
  /** Whose token it was (its `sub`), once verified. */
  user: string | undefined;
  /** `pending` until the token is verified; the RFC 6750 error code if it was refused. */
  outcome: 'pending' | 'accepted' | 'no_token' | 'invalid_token' | 'insufficient_scope' | 'not_ready';
}

export interface McpResourceServerOptions {
  scope: string;
  /** Whether an access token (by `jti`) is to be treated as expired before its `exp`. */
  isExpired: (jti: string) => boolean;
}

export interface McpResourceServer {
  /** This resource's identifier and endpoint, e.g. http://127.0.0.1:PORT/mcp. */
  resource: string;
  /** Where its RFC 9728 metadata is (the path-suffixed well-known URL). */
  resourceMetadataUrl: string;
  requests: McpRequestRecord[];
  /** Starts accepting tokens from `issuer` (keys from its metadata's `jwks_uri`); until then every request gets 503. */
  trust(issuer: string): Promise<void>;
  close(): Promise<void>;
}

interface Verifier {
  issuer: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startMcpResourceServer({ scope, isExpired }: McpResourceServerOptions): Promise<McpResourceServer> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const resource = `${origin}/mcp`;
  // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path.
  const resourceMetadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
  const requests: McpRequestRecord[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let verifier: Verifier | undefined;

  const metadata = (): Record<string, unknown> => ({
    resource,
    authorization_servers: verifier ? [verifier.issuer] : [],
    scopes_supported: [scope],
    bearer_methods_supported: ['header'],
    resource_name: 'protected upstream stand-in',
  });

  const challenge = (res: ServerResponse, status: 401 | 403, error?: { code: string; description: string }): void => {
    const params = [
      ...(error ? [`error="${error.code}"`, `error_description="${error.description}"`] : []),
      `scope="${scope}"`,
      `resource_metadata="${resourceMetadataUrl}"`,
    ];
    res.writeHead(status, { 'www-authenticate': `Bearer ${params.join(', ')}`, 'content-type': 'application/json' });
    res.end(JSON.stringify(error ? { error: error.code, error_description: error.description } : { error: 'unauthorized' }));
  };

  const handleMcp = async (req: IncomingMessage, res: ServerResponse, record: McpRequestRecord): Promise<void> => {
    if (!verifier) {
      record.outcome = 'not_ready';
      res.writeHead(503).end();
      return;
    }
    const token = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(record.authorization ?? '')?.[1];
    if (token === undefined) {
      record.outcome = record.authorization === undefined ? 'no_token' : 'invalid_token';
      // RFC 6750 §3.1: a request with no authentication information gets no error code.
      if (record.authorization === undefined) return challenge(res, 401);
      return challenge(res, 401, { code: 'invalid_token', description: 'expected a Bearer token' });
    }
    const verified = await verifyAccessToken(token, verifier, resource, isExpired);
    if ('error' in verified) {
      record.outcome = 'invalid_token';
      return challenge(res, 401, { code: 'invalid_token', description: verified.error });
    }
    const { payload } = verified;
    record.user = payload.sub;
    const scopes = typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [];
    if (!scopes.includes(scope)) {
      record.outcome = 'insufficient_scope';
      return challenge(res, 403, { code: 'insufficient_scope', description: `the token lacks ${scope}` });
    }
    record.outcome = 'accepted';
    const auth: AuthInfo = {
      token,
      clientId: String(payload['client_id']),
      scopes,
      resource: new URL(resource),
      ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
      extra: { sub: payload.sub },
    };
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    await serveMcp(req, res, sessions);
  };

  server.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/.well-known/oauth-protected-resource/mcp' || path === '/.well-known/oauth-protected-resource')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata()));
      return;
    }
    if (path !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const sessionId = req.headers['mcp-session-id'];
    const record: McpRequestRecord = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      authorization: req.headers.authorization,
      sessionId: typeof sessionId === 'string' ? sessionId : undefined,
      user: undefined,
      outcome: 'pending',
    };
    requests.push(record);
    handleMcp(req, res, record).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`upstream MCP server failed: ${String(err)}`);
    });
  });

  return {
    resource,
    resourceMetadataUrl,
    requests,
    async trust(issuer) {
      const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
      const discovered = (await response.json()) as { jwks_uri?: unknown };
      if (typeof discovered.jwks_uri !== 'string') throw new Error(`no jwks_uri in ${issuer}'s metadata`);
      verifier = { issuer, jwks: createRemoteJWKSet(new URL(discovered.jwks_uri)) };
    },
    async close() {
      await Promise.all([...sessions.values()].map((transport) => transport.close()));
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

async function verifyAccessToken(
  token: string,
  { issuer, jwks }: Verifier,
  resource: string,
  isExpired: (jti: string) => boolean,
): Promise<{ payload: JWTPayload & { sub: string; jti: string } } | { error: string }> {
  try {
    // RFC 9068 §4: typ at+jwt, the issuer's key, aud naming this resource.
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      audience: resource,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['sub', 'jti', 'exp'],
    });
    const { sub, jti } = payload;
    if (sub === undefined || jti === undefined) return { error: 'the token has no sub or jti' };
    if (isExpired(jti)) return { error: 'the access token expired' };
    return { payload: { ...payload, sub, jti } };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { error: 'the access token expired' };
    if (err instanceof joseErrors.JOSEError) return { error: `the access token is not valid here (${err.code})` };
    throw err;
  }
}

async function serveMcp(req: IncomingMessage, res: ServerResponse, sessions: Map<string, StreamableHTTPServerTransport>): Promise<void> {
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  if (body instanceof Error) {
    res
      .writeHead(400, { 'content-type': 'application/json' })
      .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: body.message } }));
    return;
  }
  const id = req.headers['mcp-session-id'];
  let transport = typeof id === 'string' ? sessions.get(id) : undefined;
  if (transport === undefined && id === undefined && isInitializeRequest(body)) {
    const created = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (sid) => void sessions.set(sid, created) });
    created.onclose = () => created.sessionId && sessions.delete(created.sessionId);
    await newMcpServer().connect(created);
    transport = created;
  }
  if (transport === undefined) {
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
    return;
  }
  await transport.handleRequest(req, res, body);
}

function newMcpServer(): McpServer {
  const server = new McpServer({ name: 'protected-upstream', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The upstream user the access token belongs to' }, async (extra) => ({
    content: [{ type: 'text', text: String(extra.authInfo?.extra?.['sub'] ?? '') }],
  }));
  server.registerTool('echo', { description: 'Returns its text argument unchanged', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return new Error('request body is not JSON');
  }
}
