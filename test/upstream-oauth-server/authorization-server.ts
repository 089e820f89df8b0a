import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type InteractionResult,
  interactionPolicy,
  type OidcContext,
  type OidcInteraction,
  type OidcIssuedAccessToken,
  type OidcProvider,
  OidcProviderClass,
  oidcErrors,
} from './oidc-provider-api.js';

/**
 * The upstream's authorization server: panva's oidc-provider on 127.0.0.1, in memory, configured
 * as an MCP authorization server is expected to be (MCP authorization spec, 2025-06-18): code flow
 * with PKCE S256 for every client and refresh tokens rotated on every use (both OAuth 2.1), dynamic
 * client registration (RFC 7591), resource indicators (RFC 8707) binding each access token to the
 * one MCP resource as a JWT (RFC 9068), revocation (RFC 7009), `iss` in the authorization response
 * (RFC 9207), and optionally Client ID Metadata Documents.
 *
 * The person at the browser is whoever `setCurrentUser` names. The interaction URL logs them in,
 * then consents to everything asked, each step a 303 back to oidc-provider, so a client that follows
 * redirects and keeps cookies completes the flow with no page to fill in. When the person changes,
 * the browser's session forgets the previous user (as if they had signed out).
 */

export interface AuthorizationServerOptions {
  /** The one resource (RFC 8707) tokens are issued for: the MCP server's URL. */
  resource: string;
  /** The scope the resource knows. */
  scope: string;
  users: readonly string[];
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  clients: readonly StaticClient[];
  /** Enables Client ID Metadata Documents, fetched through this function. */
  fetchClientMetadata: ((url: URL) => Promise<Response>) | undefined;
}

/** A client registered out of band (as an operator would with a dashboard). */
export interface StaticClient {
  client_id: string;
  /** Omit for a public client (token endpoint auth `none`). */
  client_secret?: string;
  redirect_uris: string[];
}

/** One request to the token endpoint, as oidc-provider saw it. */
export interface TokenRequestRecord {
  /** `authorization_code`, `refresh_token`, ...; undefined when the body could not be read. */
  grantType: string | undefined;
  clientId: string | undefined;
  /** The `resource` parameter, if sent. */
  resource: unknown;
  /** The RFC 6749 error code the endpoint answered, undefined on success. */
  error: string | undefined;
}

export interface AuthorizationServerRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface IssuedAccessToken {
  jti: string;
  user: string | undefined;
  clientId: string;
  grantId: string | undefined;
  expiresAt: Date;
}

export interface UpstreamAuthorizationServer {
  issuer: string;
  setCurrentUser(user: string | null): void;
  requests: AuthorizationServerRequest[];
  tokenRequests: TokenRequestRecord[];
  issuedAccessTokens: IssuedAccessToken[];
  /** Destroys every grant `user` gave, with its refresh tokens and codes; resolves to how many. */
  revokeGrants(user: string): Promise<number>;
  close(): Promise<void>;
}

export async function startAuthorizationServer(options: AuthorizationServerOptions): Promise<UpstreamAuthorizationServer> {
  const { resource, scope, users, accessTokenTtlMs, refreshTokenTtlMs, clients, fetchClientMetadata } = options;
  let currentUser: string | null = users[0] ?? null;
  const grantsByUser = new Map<string, Set<string>>();

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `upstream-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };

  // The session remembers who logged in last; the browser's person is whoever the test says now.
  const policy = interactionPolicy.base();
  policy
    .get('login')
    ?.checks.add(
      new interactionPolicy.Check('current_user_changed', 'another upstream user is at the browser', (ctx) => ctx.oidc.session?.accountId !== currentUser),
    );

  const provider: OidcProvider = new OidcProviderClass(issuer, {
    clients: clients.map(({ client_id, client_secret, redirect_uris }) => ({
      client_id,
      ...(client_secret === undefined ? {} : { client_secret }),
      redirect_uris,
      token_endpoint_auth_method: client_secret === undefined ? 'none' : 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })),
    async findAccount(_ctx: unknown, id: string) {
      return users.includes(id) ? { accountId: id, claims: () => ({ sub: id }) } : undefined;
    },
    claims: { openid: ['sub'] },
    // The resource's scope is listed too: a registration naming it (RFC 7591 §2 `scope`, which the
    // SDK sends) is checked against this list only (helpers/client_schema.js).
    scopes: ['openid', 'offline_access', scope],
    // OAuth 2.1: PKCE for confidential clients too (oidc-provider's default asks it of public ones); S256 only.
    pkce: { required: () => true },
    // MCP clients do not ask for offline_access (an OpenID Connect scope); every code grant gets one.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    // OAuth 2.1 wants a public client's refresh token rotated (single use); here every client's is.
    rotateRefreshToken: () => true,
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      // RFC 7009 §2.1: a client revokes only tokens issued to it.
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        // A client that names no resource still gets a token for the MCP server.
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new oidcErrors.InvalidTarget(`this server issues tokens for ${resource} only`);
          return { scope, audience: resource, accessTokenTTL: accessTokenTtlMs / 1000, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
      ...(fetchClientMetadata === undefined ? {} : { clientIdMetadataDocument: { enabled: true, ack: 'draft-02' } }),
    },
    // oidc-provider's own fetch refuses 127.0.0.1 (SSRF guard, helpers/fetch_request.js); the test's
    // function decides where a metadata document comes from instead. It is used for nothing else here.
    ...(fetchClientMetadata === undefined ? {} : { fetch: (url: string) => fetchClientMetadata(new URL(url)) }),
    interactions: { policy, url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    jwks: { keys: [signingKey] },
    ttl: {
      AccessToken: accessTokenTtlMs / 1000,
      AuthorizationCode: 60,
      RefreshToken: refreshTokenTtlMs / 1000,
      Grant: refreshTokenTtlMs / 1000,
      Interaction: 600,
      Session: 3600,
      IdToken: 3600,
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
  });

  const tokenRequests: TokenRequestRecord[] = [];
  const recordTokenRequest = (ctx: OidcContext, error: string | undefined): void => {
    const params = ctx.oidc.params ?? {};
    const grantType = params['grant_type'];
    tokenRequests.push({
      grantType: typeof grantType === 'string' ? grantType : undefined,
      clientId: ctx.oidc.client?.clientId,
      resource: params['resource'],
      error,
    });
  };
  provider.on('grant.success', (ctx) => recordTokenRequest(ctx, undefined));
  provider.on('grant.error', (ctx, err) => recordTokenRequest(ctx, err.error));
  provider.on('server_error', (ctx, err) => {
    if (ctx.oidc.route === 'token') recordTokenRequest(ctx, 'server_error');
    else console.error('upstream authorization server error', err);
  });

  const issuedAccessTokens: IssuedAccessToken[] = [];
  provider.on('access_token.issued', (token: OidcIssuedAccessToken) => {
    issuedAccessTokens.push({
      jti: token.jti,
      user: token.accountId,
      clientId: token.clientId,
      grantId: token.grantId,
      expiresAt: new Date(token.exp * 1000),
    });
  });

  const interact = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const interaction = await provider.interactionDetails(req, res);
    const result = await interactionResult(provider, interaction, currentUser);
    const accountId = interaction.session?.accountId;
    if ('consent' in result && accountId !== undefined) grantsByUser.set(accountId, (grantsByUser.get(accountId) ?? new Set()).add(result.consent.grantId));
    const returnTo = await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
    // Only now: oidc-provider refuses to record a result for a session whose user changed meanwhile.
    if ('login' in result && interaction.session && interaction.session.accountId !== result.login.accountId) await signOut(provider, interaction.session.uid);
    res.writeHead(303, { location: returnTo, 'content-length': '0' }).end();
  };

  const requests: AuthorizationServerRequest[] = [];
  const handle = provider.callback();
  server.on('request', (req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: { ...req.headers } });
    if (req.method === 'GET' && /^\/interaction\/[^/?]+$/.test(req.url ?? '')) {
      interact(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`interaction failed: ${String(err)}`);
      });
      return;
    }
    handle(req, res);
  });

  return {
    issuer,
    requests,
    tokenRequests,
    issuedAccessTokens,
    setCurrentUser(user) {
      if (user !== null && !users.includes(user)) throw new TypeError(`unknown upstream user ${user}`);
      currentUser = user;
    },
    async revokeGrants(user) {
      const grants = grantsByUser.get(user) ?? new Set<string>();
      grantsByUser.delete(user);
      for (const grantId of grants) {
        await Promise.all([
          provider.RefreshToken.revokeByGrantId(grantId),
          provider.AccessToken.revokeByGrantId(grantId),
          provider.AuthorizationCode.revokeByGrantId(grantId),
          provider.Grant.find(grantId).then((grant) => grant?.destroy()),
        ]);
      }
      return grants.size;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Login as the current user, then consent to everything asked; no current user declines. */
async function interactionResult(provider: OidcProvider, interaction: OidcInteraction, currentUser: string | null): Promise<InteractionResult> {
  if (currentUser === null) return { error: 'access_denied', error_description: 'the upstream user declined' };
  if (interaction.prompt.name === 'login') return { login: { accountId: currentUser } };
  if (interaction.prompt.name !== 'consent') return { error: 'interaction_required', error_description: `unexpected prompt ${interaction.prompt.name}` };

  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = interaction.prompt.details;
  const clientId = interaction.params['client_id'];
  const accountId = interaction.session?.accountId;
  if (typeof clientId !== 'string' || accountId === undefined) return { error: 'interaction_required', error_description: 'consent without a login' };
  const grant = (interaction.grantId === undefined ? undefined : await provider.Grant.find(interaction.grantId)) ?? new provider.Grant({ accountId, clientId });
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  return { consent: { grantId: await grant.save() } };
}

/**
 * Another person is at the browser: oidc-provider would answer their login with a self-submitting
 * logout form (actions/authorization/resume.js), which a redirect-following client cannot submit.
 * Signing the session's user out here first is what that form would have done.
 */
async function signOut(provider: OidcProvider, sessionUid: string): Promise<void> {
  const session = await provider.Session.findByUid(sessionUid);
  if (!session) return;
  session.accountId = undefined;
  session.loginTs = undefined;
  session.authorizations = undefined;
  await session.persist();
}
