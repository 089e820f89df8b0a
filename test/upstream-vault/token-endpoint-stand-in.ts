import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A remote MCP server's authorization server, as far as the token vault meets it: a token
 * endpoint for the refresh_token grant (RFC 6749 §6) that rotates refresh tokens and refuses a
 * rotated-out one with `invalid_grant`, and RFC 7009 revocation. Real HTTP on 127.0.0.1, so the
 * vault's requests are read off the wire. It counts refresh requests and can be told to fail.
 */
export interface TokenStandIn {
  issuer: string;
  tokenEndpoint: URL;
  revocationEndpoint: URL;
  clientId: string;
  /** Set: the client is confidential and must use client_secret_basic. */
  clientSecret: string | undefined;
  /** A token response as the authorization_code grant would return it. */
  issue(): Record<string, unknown>;
  /** How the token endpoint answers refresh requests from now on. */
  behaviour: 'ok' | 'invalid_grant' | 'server_error';
  /** When set, the raw answer to every refresh request (hostile bodies). */
  override: { status: number; body: string } | undefined;
  /** `error`: the revocation endpoint answers 503. */
  revocationBehaviour: 'ok' | 'error';
  /** Every grant_type=refresh_token request, whatever it was answered. */
  readonly refreshRequests: Array<{ form: URLSearchParams; authorization: string | undefined }>;
  readonly revocations: Array<{ token: string; hint: string | null }>;
  /** Every token this server ever issued: what must never show up in a store or a log. */
  readonly issuedTokens: string[];
  acceptsAccessToken(token: string): boolean;
  acceptsRefreshToken(token: string): boolean;
  /** POSTs a refresh as a client would (outside the vault). */
  refreshDirectly(refreshToken: string): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface TokenStandInOptions {
  /** Access token lifetime in seconds. */
  expiresInS?: number;
  /** Issue a new refresh token on each refresh (and retire the old one). */
  rotate?: boolean;
  /** Delay before answering a refresh, so concurrent callers really overlap. */
  refreshDelayMs?: number;
  clientSecret?: string;
}

export async function startTokenStandIn({
  expiresInS = 120,
  rotate = true,
  refreshDelayMs = 100,
  clientSecret,
}: TokenStandInOptions = {}): Promise<TokenStandIn> {
  const accessTokens = new Set<string>();
  const refreshTokens = new Set<string>();
  const issuedTokens: string[] = [];
  const clientId = `client-${randomBytes(6).toString('hex')}`;
  const mint = (kind: 'at' | 'rt'): string => {
    const token = `${kind}-${randomBytes(18).toString('base64url')}`;
    issuedTokens.push(token);
    (kind === 'at' ? accessTokens : refreshTokens).add(token);
    return token;
  };

  const state: TokenStandIn = {
    issuer: '',
    tokenEndpoint: new URL('http://127.0.0.1/'),
    revocationEndpoint: new URL('http://127.0.0.1/'),
    clientId,
    clientSecret,
    behaviour: 'ok',
    override: undefined,
    revocationBehaviour: 'ok',
    refreshRequests: [],
    revocations: [],
    issuedTokens,
    issue: () => ({ token_type: 'Bearer', access_token: mint('at'), refresh_token: mint('rt'), expires_in: expiresInS, scope: 'tools:read' }),
    acceptsAccessToken: (token) => accessTokens.has(token),
    acceptsRefreshToken: (token) => refreshTokens.has(token),
    async refreshDirectly(refreshToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (clientSecret !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
      const res = await fetch(state.tokenEndpoint, { method: 'POST', headers, body: form });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  /** RFC 6749 §2.3: a public client names itself in the body; a confidential one must use Basic. */
  const clientAuthenticated = (req: IncomingMessage, form: URLSearchParams): boolean => {
    if (clientSecret === undefined) return form.get('client_id') === clientId;
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const [id, secret] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':').map(decodeURIComponent);
    return id === clientId && secret === clientSecret;
  };

  const onToken = async (req: IncomingMessage, res: ServerResponse, form: URLSearchParams): Promise<void> => {
    if (form.get('grant_type') !== 'refresh_token') return send(res, 400, { error: 'unsupported_grant_type' });
    state.refreshRequests.push({ form, authorization: req.headers.authorization });
    await new Promise((resolve) => setTimeout(resolve, refreshDelayMs));
    if (state.override !== undefined) return send(res, state.override.status, state.override.body);
    if (!clientAuthenticated(req, form)) return send(res, 401, { error: 'invalid_client' });
    if (state.behaviour === 'server_error') return send(res, 500, { error: 'server_error' });
    const presented = form.get('refresh_token') ?? '';
    if (state.behaviour === 'invalid_grant' || !refreshTokens.has(presented)) {
      // The description echoes the token, as careless servers do: the vault must not pass it on.
      return send(res, 400, { error: 'invalid_grant', error_description: `refresh token ${presented} is not valid` });
    }
    const reply: Record<string, unknown> = { token_type: 'bearer', access_token: mint('at'), expires_in: expiresInS };
    if (rotate) {
      refreshTokens.delete(presented);
      reply['refresh_token'] = mint('rt');
    }
    send(res, 200, reply);
  };

  const onRevoke = (req: IncomingMessage, res: ServerResponse, form: URLSearchParams): void => {
    if (!clientAuthenticated(req, form)) {
      send(res, 401, { error: 'invalid_client' });
      return;
    }
    if (state.revocationBehaviour === 'error') {
      send(res, 503, { error: 'temporarily_unavailable' });
      return;
    }
    const token = form.get('token') ?? '';
    state.revocations.push({ token, hint: form.get('token_type_hint') });
    accessTokens.delete(token);
    refreshTokens.delete(token);
    res.writeHead(200).end();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (req.method !== 'POST') return send(res, 405, { error: 'invalid_request' });
      if (req.url === '/token') return void onToken(req, res, form);
      if (req.url === '/revoke') return onRevoke(req, res, form);
      send(res, 404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.issuer = `http://127.0.0.1:${port}`;
  state.tokenEndpoint = new URL(`${state.issuer}/token`);
  state.revocationEndpoint = new URL(`${state.issuer}/revoke`);
  return state;
}
