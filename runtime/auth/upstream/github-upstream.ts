import { z } from 'zod';
import { GatewayError } from '../../errors.js';

/**
 * The gateway's client for logging users in with GitHub (an OAuth app's web flow, "Authorizing
 * OAuth apps" in GitHub's docs). GitHub only says who the user is; the gateway issues its own
 * tokens, so the GitHub token never leaves the auth runtime and never appears in an error.
 */

export interface GitHubUpstreamOptions {
  /** github.com or a GitHub Enterprise Server base URL (the config's `provider.url`). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  /** Per request, including reading the body. */
  timeoutMs?: number;
  userAgent?: string;
}

export interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
}

export interface GitHubUpstream {
  authorizeUrl(params: { state: string; redirectUri: string; scope?: string }): string;
  /** Resolves to GitHub's access token for the user. */
  exchangeCode(params: { code: string; redirectUri: string }): Promise<string>;
  fetchUser(accessToken: string): Promise<GitHubUser>;
  apiBaseUrl: string;
}

/**
 * `read:user` is read-only profile access, enough for `GET /user`. We always name a scope:
 * when `scope` is omitted GitHub silently re-grants every scope the user ever gave this app.
 * Org/team rules need `read:org`; the caller asks for it only when such rules are configured.
 */
export const DEFAULT_GITHUB_SCOPE = 'read:user';
/** The REST API version we code against; GitHub supports a version for 24 months after its successor. */
export const GITHUB_API_VERSION = '2022-11-28';
const DEFAULT_TIMEOUT_MS = 10_000;
/** A token response or a user is a few hundred bytes; anything near this is not GitHub. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * github.com serves the API from its own host; Enterprise Server serves it under `/api/v3` of
 * the instance (which may itself live under a path).
 */
export function resolveGitHubUrls(baseUrl: string): { webBaseUrl: string; apiBaseUrl: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`GitHub base URL is not a URL: ${baseUrl}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`GitHub base URL must be http(s): ${baseUrl}`);
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError('GitHub base URL must not carry a query, fragment or credentials');
  }
  const host = url.hostname.toLowerCase();
  // www.github.com answers the token POST with a redirect that fetch turns into a GET: use the canonical host.
  if (host === 'github.com' || host === 'www.github.com') {
    return { webBaseUrl: 'https://github.com', apiBaseUrl: 'https://api.github.com' };
  }
  const webBaseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  return { webBaseUrl, apiBaseUrl: `${webBaseUrl}/api/v3` };
}

// Token endpoint replies (HTTP 200 either way; "Troubleshooting OAuth app access token request errors").
const tokenErrorBody = z.object({
  error: z.string().min(1),
  error_description: z.string().optional(),
});
const tokenSuccessBody = z.object({
  // Header-safe characters only: the token goes into an Authorization header next.
  access_token: z.string().regex(/^[\x21-\x7e]{1,1024}$/),
  token_type: z.string().regex(/^bearer$/i),
  scope: z.string().optional(),
});
const userBody = z.object({
  id: z.number().int().positive(),
  login: z.string().min(1).max(100),
  name: z.string().nullable().optional(),
});
const apiErrorBody = z.object({ message: z.string() });

/** GitHub-side fixes for the token endpoint's documented error codes. */
const TOKEN_ERROR_HINTS = new Map<string, string>([
  [
    'incorrect_client_credentials',
    "check the GitHub OAuth app's client id/secret (mcp-gateway init --github-client-id ... --github-client-secret ...)",
  ],
  ['bad_verification_code', 'the GitHub login code was already used or has expired (codes live 10 minutes): start the login again'],
  ['redirect_uri_mismatch', "set the GitHub OAuth app's callback URL to the gateway's GitHub callback URL"],
  ['unverified_user_email', 'the GitHub user must verify their primary email address, then log in again'],
]);

export function createGitHubUpstream({
  baseUrl,
  clientId,
  clientSecret,
  fetch: fetchImpl = globalThis.fetch,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  userAgent = 'mcp-gateway',
}: GitHubUpstreamOptions): GitHubUpstream {
  const { webBaseUrl, apiBaseUrl } = resolveGitHubUrls(baseUrl);
  if (!clientId) throw new TypeError('GitHub client id is empty');
  if (!clientSecret) throw new TypeError('GitHub client secret is empty');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number');

  const authorizeEndpoint = `${webBaseUrl}/login/oauth/authorize`;
  const tokenEndpoint = `${webBaseUrl}/login/oauth/access_token`;
  const userEndpoint = `${apiBaseUrl}/user`;
  const connectivityHint = (url: string): string =>
    `check --github-url (now ${webBaseUrl}) and that this host can reach ${new URL(url).origin} (DNS, proxy, firewall)`;

  /** One HTTP exchange with GitHub; every way of not getting an answer becomes ERR_UPSTREAM_UNREACHABLE. */
  async function send(url: string, init: RequestInit): Promise<{ status: number; headers: Headers; text: string }> {
    try {
      // Manual redirects: a moved instance should be reported, not followed (a 30x turns the token POST into a GET).
      const res = await fetchImpl(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, headers: res.headers, text: await readCapped(res, url) };
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      throw new GatewayError(
        'ERR_UPSTREAM_UNREACHABLE',
        timedOut ? `GitHub did not answer within ${timeoutMs} ms (${url})` : `could not reach GitHub at ${url}`,
        { hint: connectivityHint(url), cause: err },
      );
    }
  }

  function unexpected(url: string, status: number, headers: Headers, what: string): GatewayError {
    if (status >= 300 && status < 400) {
      return new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `GitHub redirected ${url} (HTTP ${status})`, {
        hint: `set --github-url to the instance's canonical URL (the redirect points to ${untrusted(headers.get('location') ?? '?')})`,
      });
    }
    return new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `unexpected reply from GitHub at ${url} (HTTP ${status}): ${what}`, {
      hint: `check that --github-url (now ${webBaseUrl}) is the GitHub or GitHub Enterprise Server web address`,
    });
  }

  return {
    apiBaseUrl,

    authorizeUrl({ state, redirectUri, scope = DEFAULT_GITHUB_SCOPE }) {
      if (!state) throw new TypeError('state is required (CSRF protection for the GitHub callback)');
      if (!URL.canParse(redirectUri)) throw new TypeError(`redirectUri is not a URL: ${redirectUri}`);
      const query = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, scope, state });
      // Access needs an allowlisted existing account, so a sign-up offered mid-login could never get in.
      query.set('allow_signup', 'false');
      return `${authorizeEndpoint}?${query.toString()}`;
    },

    async exchangeCode({ code, redirectUri }) {
      if (!code) throw new TypeError('code is required');
      if (!URL.canParse(redirectUri)) throw new TypeError(`redirectUri is not a URL: ${redirectUri}`);
      const form = new URLSearchParams({ client_id: clientId, client_secret: clientSecret, code, redirect_uri: redirectUri });
      const { status, headers, text } = await send(tokenEndpoint, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'user-agent': userAgent },
        body: form.toString(),
      });
      const json = parseJson(text);
      const failure = tokenErrorBody.safeParse(json);
      if (failure.success) {
        const { error, error_description: description } = failure.data;
        const said = (words: string): string => untrusted(words, [clientSecret, code]);
        throw new GatewayError(
          'ERR_UPSTREAM_DENIED',
          `GitHub refused the login (${said(error)})${description ? `: ${said(description)}` : ''}`,
          { hint: TOKEN_ERROR_HINTS.get(error) ?? 'start the login again; if it keeps failing, check the GitHub OAuth app settings' },
        );
      }
      if (status >= 500 || status === 429) {
        throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `GitHub failed at ${tokenEndpoint} (HTTP ${status})`, {
          hint: `${connectivityHint(tokenEndpoint)}; if GitHub itself is down, retry later`,
        });
      }
      const success = tokenSuccessBody.safeParse(json);
      if (status !== 200 || !success.success) throw unexpected(tokenEndpoint, status, headers, 'not an OAuth token response');
      return success.data.access_token;
    },

    async fetchUser(accessToken) {
      if (!/^[\x21-\x7e]+$/.test(accessToken)) throw new TypeError('accessToken must be a non-empty header-safe string');
      const { status, headers, text } = await send(userEndpoint, {
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${accessToken}`,
          'x-github-api-version': GITHUB_API_VERSION,
          'user-agent': userAgent,
        },
      });
      const json = parseJson(text);
      if (status === 200) {
        const user = userBody.safeParse(json);
        if (!user.success) throw unexpected(userEndpoint, status, headers, 'not a GitHub user');
        return { id: user.data.id, login: user.data.login, name: user.data.name ?? null };
      }
      const message = apiErrorBody.safeParse(json);
      const said = (words: string): string => untrusted(words, [accessToken]);
      const detail = message.success ? `: ${said(message.data.message)}` : '';
      const rateLimited = status === 429 || (status === 403 && headers.get('x-ratelimit-remaining') === '0');
      if (status >= 500 || rateLimited) {
        throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `GitHub failed at ${userEndpoint} (HTTP ${status})${detail}`, {
          hint: rateLimited ? 'GitHub rate-limited this host: retry after a few minutes' : connectivityHint(userEndpoint),
        });
      }
      if (status === 401 || status === 403) {
        throw new GatewayError('ERR_UPSTREAM_DENIED', `GitHub refused the user's token (HTTP ${status})${detail}`, {
          hint: 'the GitHub authorization was revoked or has expired: log in again',
        });
      }
      throw unexpected(userEndpoint, status, headers, message.success ? said(message.data.message) : 'not a GitHub API reply');
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * GitHub's own words go into our messages, but cut short, without control characters (log
 * injection) and without anything we sent it (a proxy that echoes the request must not leak it).
 */
function untrusted(text: string, secrets: readonly string[] = []): string {
  let clean = text.replace(/[\x00-\x1f\x7f]+/g, ' ');
  // Below 8 characters a "secret" is no credential and redacting it would garble ordinary words.
  for (const secret of secrets.filter((s) => s.length >= 8)) {
    for (const form of new Set([secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)])) {
      clean = clean.split(form).join('[redacted]');
    }
  }
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

async function readCapped(res: Response, url: string): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `GitHub's reply at ${url} is larger than ${MAX_BODY_BYTES} bytes`, {
        hint: 'check that --github-url is the GitHub or GitHub Enterprise Server web address',
      });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
