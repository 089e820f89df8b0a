import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type FetchImplementation, type JWTPayload } from 'jose';
import { z } from 'zod';
import { GatewayError } from '../../errors.js';
import { isValidS256Challenge } from '../tokens/pkce.js';
import { fetchOidcMetadata, parseIssuer, type OidcProviderMetadata } from './oidc-discovery.js';
import { fetchUserinfo, profileClaims, withUserinfo } from './oidc-userinfo.js';
import { parseJson, requestUpstream, untrusted, type UpstreamReply } from './upstream-http.js';

/**
 * A generic OpenID Connect upstream (Google, GitLab, Keycloak, Auth0, ...): authorization code
 * flow with PKCE S256 and a nonce, the id_token validated as OIDC Core §3.1.3.7 says. Like the
 * GitHub client it only learns who the user is; the provider's tokens stay in the auth runtime
 * and never appear in an error.
 */

export interface OidcUpstreamOptions {
  /** Exactly as the provider's discovery document spells it (trailing slash included). */
  issuer: string;
  clientId: string;
  /** Omit for a public client (token endpoint auth `none`, PKCE only). */
  clientSecret?: string;
  /**
   * How to send the secret when the client is registered for one method only (Auth0 "Post", for
   * example); by default basic, or post when discovery offers only post.
   */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /** Must include `openid`. */
  scopes?: readonly string[];
  fetch?: typeof fetch;
  /** Clock for id_token `exp`/`iat` checks, ms since epoch. */
  now?: () => number;
  /** Per request, including reading the body. */
  timeoutMs?: number;
  userAgent?: string;
}

export interface OidcUserClaims {
  /** Stable and unique only together with the issuer (OIDC Core §5.7): key users by both. */
  sub: string;
  email?: string;
  email_verified?: boolean;
  /** Not unique, not stable, often user-editable (OIDC Core §5.7): never an identity key. */
  preferred_username?: string;
  name?: string;
}

export interface OidcLoginResult {
  claims: OidcUserClaims;
  idToken: string;
  accessToken: string;
  refreshToken?: string;
}

export interface OidcUpstream {
  readonly issuer: string;
  /** Fetches and validates the discovery document once; a failure is not cached. */
  discover(): Promise<void>;
  authorizeUrl(params: { state: string; redirectUri: string; codeChallenge: string; nonce: string }): Promise<string>;
  /** Checks the authorization response (`error`, RFC 9207 `iss`) and returns its `code`. The caller checks `state`. */
  readCallback(query: URLSearchParams): Promise<string>;
  exchangeCode(params: { code: string; redirectUri: string; codeVerifier: string; nonce: string }): Promise<OidcLoginResult>;
}

export const DEFAULT_OIDC_SCOPES: readonly string[] = ['openid', 'profile', 'email'];
const DEFAULT_TIMEOUT_MS = 10_000;
/** Seconds of clock skew forgiven on `exp`/`iat`/`nbf`. */
const CLOCK_TOLERANCE_S = 30;
/** An id_token from the token endpoint was minted just now; an old one is a replay. */
const MAX_ID_TOKEN_AGE_S = 10 * 60;
/** RFC 7636 §4.1. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const HEADER_SAFE = /^[\x21-\x7e]+$/;

const tokenErrorBody = z.object({ error: z.string().min(1), error_description: z.string().optional() });
const tokenSuccessBody = z.object({
  access_token: z.string().max(16_384).regex(HEADER_SAFE),
  token_type: z.string().regex(/^bearer$/i),
  id_token: z
    .string()
    .max(16_384)
    .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/),
  refresh_token: z.string().min(1).max(16_384).optional(),
});

const TOKEN_ERROR_HINTS = new Map<string, string>([
  ['invalid_client', 'check the OpenID client id and secret given to the gateway, and the client authentication method set at the provider'],
  ['invalid_grant', 'the login code was already used or has expired, or the redirect URI or PKCE verifier did not match: start the login again'],
  ['unauthorized_client', 'allow the authorization code grant for this client at the provider'],
]);

export function createOidcUpstream({
  issuer,
  clientId,
  clientSecret,
  tokenEndpointAuthMethod,
  scopes = DEFAULT_OIDC_SCOPES,
  fetch: fetchImpl = globalThis.fetch,
  now = Date.now,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  userAgent = 'mcp-gateway',
}: OidcUpstreamOptions): OidcUpstream {
  const issuerUrl = parseIssuer(issuer);
  if (!clientId) throw new TypeError('OpenID client id is empty');
  if (clientSecret === '') throw new TypeError('OpenID client secret is empty (omit it for a public client)');
  if (tokenEndpointAuthMethod !== undefined && clientSecret === undefined) throw new TypeError('tokenEndpointAuthMethod needs a client secret');
  if (!scopes.includes('openid')) throw new TypeError('OpenID scopes must include "openid"');
  if (scopes.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) throw new TypeError('OpenID scopes must be RFC 6749 scope tokens');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number');

  const reachHint = `check the OpenID issuer (now ${issuer}) and that this host can reach ${issuerUrl.origin} (DNS, proxy, firewall)`;
  const send = (url: string, init: RequestInit): Promise<UpstreamReply> =>
    requestUpstream(fetchImpl, url, init, { system: 'the OpenID provider', timeoutMs, hint: reachHint });

  // jose fetches the keys through our fetch, so the JWKS gets the same timeout, size cap and errors.
  const jwksFetch: FetchImplementation = async (url, init) => {
    const { status, text } = await send(url, init);
    if (status !== 200) {
      throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `the OpenID provider's jwks_uri ${url} answered HTTP ${status}`, { hint: reachHint });
    }
    return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
  };

  let discovered: Promise<{ metadata: OidcProviderMetadata; jwks: ReturnType<typeof createRemoteJWKSet> }> | undefined;
  function discover() {
    const clientAuth = clientSecret === undefined ? 'none' : (tokenEndpointAuthMethod ?? 'auto');
    discovered ??= fetchOidcMetadata({ issuer, clientAuth, fetch: fetchImpl, timeoutMs, userAgent }).then(
      (metadata) => ({
        metadata,
        jwks: createRemoteJWKSet(new URL(metadata.jwksUri), {
          timeoutDuration: timeoutMs,
          headers: { 'user-agent': userAgent },
          [customFetch]: jwksFetch,
        }),
      }),
      (err: unknown) => {
        discovered = undefined; // the next login tries again
        throw err;
      },
    );
    return discovered;
  }

  async function verifyIdToken(idToken: string, nonce: string): Promise<JWTPayload> {
    const { metadata, jwks } = await discover();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, jwks, {
        issuer: metadata.issuer,
        audience: clientId,
        algorithms: metadata.idTokenAlgorithms,
        clockTolerance: CLOCK_TOLERANCE_S,
        maxTokenAge: MAX_ID_TOKEN_AGE_S,
        currentDate: new Date(now()),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      }));
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (err instanceof joseErrors.JWKSTimeout) {
        throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `the OpenID provider's jwks_uri did not answer within ${timeoutMs} ms`, {
          hint: reachHint,
          cause: err,
        });
      }
      if (!(err instanceof joseErrors.JOSEError)) throw err;
      // jose's messages name the claim or step that failed, never the token's contents.
      throw invalidIdToken(`${err.code}: ${err.message}`, err);
    }
    // §3.1.3.7 (11): the nonce binds the token to this browser's login; a mismatch is a replayed or injected token.
    if (payload['nonce'] !== nonce) throw invalidIdToken('nonce does not match this login');
    // §3.1.3.7 (4)-(5); jose already checked that aud contains our client id.
    const azp = payload['azp'];
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && azp === undefined) throw invalidIdToken('several audiences but no azp');
    if (azp !== undefined && azp !== clientId) throw invalidIdToken('azp is another client');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) throw invalidIdToken('sub is not a 1-255 character string');
    return payload;
  }

  function invalidIdToken(reason: string, cause?: unknown): GatewayError {
    return new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `the id_token from ${issuer} failed validation (${reason})`, {
      hint: 'start the login again; if it keeps failing, check the issuer and client id given to the gateway and the server clocks',
      ...(cause === undefined ? {} : { cause }),
    });
  }

  return {
    issuer,

    async discover() {
      await discover();
    },

    async authorizeUrl({ state, redirectUri, codeChallenge, nonce }) {
      if (!state) throw new TypeError('state is required (CSRF protection for the callback)');
      if (!nonce) throw new TypeError('nonce is required (binds the id_token to this login)');
      if (!URL.canParse(redirectUri)) throw new TypeError(`redirectUri is not a URL: ${redirectUri}`);
      if (!isValidS256Challenge(codeChallenge)) throw new TypeError('codeChallenge must be an S256 challenge (43 base64url characters)');
      const { metadata } = await discover();
      const url = new URL(metadata.authorizationEndpoint);
      const params = {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirectUri,
        scope: scopes.join(' '),
        state,
        nonce,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      };
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
      return url.toString();
    },

    async readCallback(query) {
      const { metadata } = await discover();
      const iss = query.get('iss');
      // RFC 9207 §2.4: defends against mix-up, where another provider's response is played to our callback.
      if (iss !== null ? iss !== metadata.issuer : metadata.issInAuthorizationResponse) {
        throw new GatewayError(
          'ERR_UPSTREAM_BAD_RESPONSE',
          `the authorization response does not come from ${issuer} (iss ${iss === null ? 'missing' : 'differs'})`,
          {
            hint: 'start the login again from the gateway; a response from another identity provider is never accepted',
          },
        );
      }
      const error = query.get('error');
      if (error !== null) {
        const description = query.get('error_description');
        throw new GatewayError(
          'ERR_UPSTREAM_DENIED',
          `the OpenID provider refused the login (${untrusted(error)})${description ? `: ${untrusted(description)}` : ''}`,
          {
            hint:
              error === 'access_denied'
                ? 'the user declined at the provider: start the login again to retry'
                : 'check the client settings at the provider (redirect URI, allowed scopes, grant types)',
          },
        );
      }
      const code = query.get('code');
      if (!code)
        throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', 'the authorization response has neither code nor error', { hint: 'start the login again' });
      return code;
    },

    async exchangeCode({ code, redirectUri, codeVerifier, nonce }) {
      if (!code) throw new TypeError('code is required');
      if (!nonce) throw new TypeError('nonce is required');
      if (!URL.canParse(redirectUri)) throw new TypeError(`redirectUri is not a URL: ${redirectUri}`);
      if (!VERIFIER.test(codeVerifier)) throw new TypeError('codeVerifier must be 43-128 unreserved characters (RFC 7636 §4.1)');
      const { metadata } = await discover();

      const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier });
      const headers: Record<string, string> = {
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': userAgent,
      };
      const secrets = [code, codeVerifier];
      if (metadata.tokenEndpointAuth === 'client_secret_basic' && clientSecret !== undefined) {
        // RFC 6749 §2.3.1: id and secret are form-encoded before base64, so `:` or `%` in them survive.
        const basic = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64');
        headers['authorization'] = `Basic ${basic}`;
        secrets.push(clientSecret, basic);
      } else {
        form.set('client_id', clientId);
        if (metadata.tokenEndpointAuth === 'client_secret_post' && clientSecret !== undefined) {
          form.set('client_secret', clientSecret);
          secrets.push(clientSecret);
        }
      }

      const endpoint = metadata.tokenEndpoint;
      const { status, headers: replyHeaders, text } = await send(endpoint, { method: 'POST', headers, body: form.toString() });
      const json = parseJson(text);
      const failure = tokenErrorBody.safeParse(json);
      if (status >= 500 || status === 429) {
        throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `the OpenID provider failed at ${endpoint} (HTTP ${status})`, {
          hint: 'the provider is down or overloaded: retry later',
        });
      }
      if (status >= 400 && failure.success) {
        const { error, error_description: description } = failure.data;
        const said = (words: string): string => untrusted(words, secrets);
        throw new GatewayError(
          'ERR_UPSTREAM_DENIED',
          `the OpenID provider refused the code exchange (${said(error)})${description ? `: ${said(description)}` : ''}`,
          {
            hint: TOKEN_ERROR_HINTS.get(error) ?? 'start the login again; if it keeps failing, check the client settings at the provider',
          },
        );
      }
      const success = tokenSuccessBody.safeParse(json);
      if (status !== 200 || !success.success) {
        const where =
          status >= 300 && status < 400 ? `redirected to ${untrusted(replyHeaders.get('location') ?? '?', secrets)}` : 'not a token response with an id_token';
        throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `unexpected reply from the OpenID provider at ${endpoint} (HTTP ${status}): ${where}`, {
          hint: `check the OpenID issuer (now ${issuer}) and that the client at the provider may use the openid scope`,
        });
      }
      const { access_token: accessToken, id_token: idToken, refresh_token: refreshToken } = success.data;

      const payload = await verifyIdToken(idToken, nonce);
      const sub = payload.sub as string;
      let claims: OidcUserClaims = { sub, ...profileClaims(payload) };
      const missing =
        (scopes.includes('email') && claims.email === undefined) ||
        (scopes.includes('profile') && claims.preferred_username === undefined && claims.name === undefined);
      if (missing && metadata.userinfoEndpoint !== undefined) {
        const userinfo = await fetchUserinfo({ send, endpoint: metadata.userinfoEndpoint, accessToken, sub, userAgent, hint: reachHint });
        claims = withUserinfo(claims, userinfo);
      }
      return { claims, idToken, accessToken, ...(refreshToken === undefined ? {} : { refreshToken }) };
    },
  };
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
