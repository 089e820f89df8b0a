import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { GatewayError } from '../../errors.js';
import { parseJson, requestUpstream, untrusted, type UpstreamReply } from './upstream-http.js';

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
  /**
   * What `authorizeUrl` asks for unless a call names its own scope: `DEFAULT_GITHUB_SCOPE`, or
   * `GITHUB_SCOPE_WITH_ORGS` when org or team rules are configured (`fetchOrgs`/`fetchTeams` need it).
   */
  scope?: string;
}

export interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
}

/** A team the user belongs to; both parts lowercase (GitHub compares them case-insensitively). */
export interface GitHubTeam {
  org: string;
  slug: string;
}

export interface GitHubUpstream {
  authorizeUrl(params: { state: string; redirectUri: string; scope?: string }): string;
  /** Resolves to GitHub's access token for the user. */
  exchangeCode(params: { code: string; redirectUri: string }): Promise<string>;
  fetchUser(accessToken: string): Promise<GitHubUser>;
  /**
   * Logins (lowercase) of the user's organizations, every page; needs `read:org`. An org that
   * restricts OAuth app access is left out until it approves this app: the user looks like a
   * non-member, which fails closed.
   */
  fetchOrgs(accessToken: string): Promise<string[]>;
  /** The user's teams across all organizations, every page; needs `read:org` (same org restriction caveat). */
  fetchTeams(accessToken: string): Promise<GitHubTeam[]>;
  /**
   * Checks the client id and secret without a user: GitHub answers a made-up code with
   * `bad_verification_code` when they are right and `incorrect_client_credentials` when they
   * are wrong. Resolves when they are right; ERR_UPSTREAM_DENIED when GitHub refuses them.
   */
  checkClientCredentials(): Promise<void>;
  apiBaseUrl: string;
}

/**
 * `read:user` is read-only profile access, enough for `GET /user`. We always name a scope:
 * when `scope` is omitted GitHub silently re-grants every scope the user ever gave this app.
 * Org/team rules need `read:org`; the caller asks for it only when such rules are configured.
 */
export const DEFAULT_GITHUB_SCOPE = 'read:user';
/** `GET /user/orgs` and `GET /user/teams` answer an OAuth app token only with `read:org` (or broader). */
export const GITHUB_SCOPE_WITH_ORGS = 'read:user read:org';
/** The REST API version we code against; GitHub supports a version for 24 months after its successor. */
export const GITHUB_API_VERSION = '2022-11-28';
const DEFAULT_TIMEOUT_MS = 10_000;
/** GitHub's largest page. */
const PER_PAGE = 100;
/**
 * 10 pages = 1,000 orgs or teams. A longer list is no real account; it is a pagination loop,
 * and reading on would send the user's token again and again.
 */
const MAX_PAGES = 10;

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
const orgsPage = z.array(z.object({ login: z.string().min(1).max(100) })).max(PER_PAGE);
const teamsPage = z.array(z.object({ slug: z.string().min(1).max(255), organization: z.object({ login: z.string().min(1).max(100) }) })).max(PER_PAGE);

/** GitHub-side fixes for the token endpoint's documented error codes. */
const TOKEN_ERROR_HINTS = new Map<string, string>([
  [
    'incorrect_client_credentials',
    "check the GitHub app's client id and secret: `mcp-gateway github register --manual --force --github-client-id ...` stores them again (or run `mcp-gateway github register --force` for a new app)",
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
  scope: defaultScope = DEFAULT_GITHUB_SCOPE,
}: GitHubUpstreamOptions): GitHubUpstream {
  const { webBaseUrl, apiBaseUrl } = resolveGitHubUrls(baseUrl);
  if (!clientId) throw new TypeError('GitHub client id is empty');
  if (!clientSecret) throw new TypeError('GitHub client secret is empty');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number');
  if (!defaultScope.trim()) throw new TypeError('scope must name at least one GitHub scope');

  const authorizeEndpoint = `${webBaseUrl}/login/oauth/authorize`;
  const tokenEndpoint = `${webBaseUrl}/login/oauth/access_token`;
  const userEndpoint = `${apiBaseUrl}/user`;
  const connectivityHint = (url: string): string =>
    `check --github-url (now ${webBaseUrl}) and that this host can reach ${new URL(url).origin} (DNS, proxy, firewall)`;

  /** One HTTP exchange with GitHub; every way of not getting an answer becomes ERR_UPSTREAM_UNREACHABLE. */
  function send(url: string, init: RequestInit): Promise<UpstreamReply> {
    return requestUpstream(fetchImpl, url, init, {
      system: 'GitHub',
      timeoutMs,
      hint: connectivityHint(url),
      badResponseHint: `check that --github-url (now ${webBaseUrl}) is the GitHub or GitHub Enterprise Server web address`,
    });
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

    authorizeUrl({ state, redirectUri, scope = defaultScope }) {
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
      const reply = await requestToken(code, redirectUri);
      if ('error' in reply) throw refused('the login', reply, code);
      return reply.accessToken;
    },

    async checkClientCredentials() {
      // No redirect_uri: a wrong one would be reported before the code is even looked at.
      const code = `mcp-gateway-credential-check-${randomBytes(8).toString('hex')}`;
      const reply = await requestToken(code, undefined);
      if ('error' in reply && reply.error !== 'bad_verification_code') throw refused('the client credentials', reply, code);
    },

    async fetchUser(accessToken) {
      const { json, headers } = await apiGet(userEndpoint, accessToken, REVOKED_HINT);
      const user = userBody.safeParse(json);
      if (!user.success) throw unexpected(userEndpoint, 200, headers, 'not a GitHub user');
      return { id: user.data.id, login: user.data.login, name: user.data.name ?? null };
    },

    async fetchOrgs(accessToken) {
      const orgs = await paginate(`${apiBaseUrl}/user/orgs`, accessToken, orgsPage, 'not a list of organizations');
      return [...new Set(orgs.map((o) => o.login.toLowerCase()))];
    },

    async fetchTeams(accessToken) {
      const teams = await paginate(`${apiBaseUrl}/user/teams`, accessToken, teamsPage, 'not a list of teams');
      const seen = new Map<string, GitHubTeam>();
      for (const t of teams) {
        const team = { org: t.organization.login.toLowerCase(), slug: t.slug.toLowerCase() };
        seen.set(`${team.org}/${team.slug}`, team);
      }
      return [...seen.values()];
    },
  };

  /** The token endpoint's answer: GitHub's own error (HTTP 200 either way), or the access token. */
  async function requestToken(code: string, redirectUri: string | undefined): Promise<{ error: string; description?: string } | { accessToken: string }> {
    const form = new URLSearchParams({
      client_id: clientId,
      client_secret: clientSecret,
      code,
      ...(redirectUri === undefined ? {} : { redirect_uri: redirectUri }),
    });
    const { status, headers, text } = await send(tokenEndpoint, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'user-agent': userAgent },
      body: form.toString(),
    });
    const json = parseJson(text);
    const failure = tokenErrorBody.safeParse(json);
    if (failure.success) {
      const { error, error_description: description } = failure.data;
      return description === undefined ? { error } : { error, description };
    }
    if (status >= 500 || status === 429) {
      throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `GitHub failed at ${tokenEndpoint} (HTTP ${status})`, {
        hint: `${connectivityHint(tokenEndpoint)}; if GitHub itself is down, retry later`,
      });
    }
    const success = tokenSuccessBody.safeParse(json);
    if (status !== 200 || !success.success) throw unexpected(tokenEndpoint, status, headers, 'not an OAuth token response');
    return { accessToken: success.data.access_token };
  }

  function refused(what: string, { error, description }: { error: string; description?: string }, code: string): GatewayError {
    const said = (words: string): string => untrusted(words, [clientSecret, code]);
    return new GatewayError('ERR_UPSTREAM_DENIED', `GitHub refused ${what} (${said(error)})${description ? `: ${said(description)}` : ''}`, {
      hint: TOKEN_ERROR_HINTS.get(error) ?? 'start the login again; if it keeps failing, check the GitHub app settings',
    });
  }

  /** One authenticated REST call; anything but 200 becomes the matching GatewayError. */
  async function apiGet(url: string, accessToken: string, deniedHint: string): Promise<{ json: unknown; headers: Headers }> {
    if (!/^[\x21-\x7e]+$/.test(accessToken)) throw new TypeError('accessToken must be a non-empty header-safe string');
    const { status, headers, text } = await send(url, {
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${accessToken}`,
        'x-github-api-version': GITHUB_API_VERSION,
        'user-agent': userAgent,
      },
    });
    const json = parseJson(text);
    if (status === 200) return { json, headers };
    const message = apiErrorBody.safeParse(json);
    const said = (words: string): string => untrusted(words, [accessToken]);
    const detail = message.success ? `: ${said(message.data.message)}` : '';
    const rateLimited = status === 429 || (status === 403 && headers.get('x-ratelimit-remaining') === '0');
    if (status >= 500 || rateLimited) {
      throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `GitHub failed at ${url} (HTTP ${status})${detail}`, {
        hint: rateLimited ? 'GitHub rate-limited this host: retry after a few minutes' : connectivityHint(url),
      });
    }
    if (status === 401 || status === 403) {
      throw new GatewayError('ERR_UPSTREAM_DENIED', `GitHub refused the user's token at ${url} (HTTP ${status})${detail}`, {
        hint: status === 401 ? REVOKED_HINT : deniedHint,
      });
    }
    throw unexpected(url, status, headers, message.success ? said(message.data.message) : 'not a GitHub API reply');
  }

  /**
   * Every page of a list endpoint ("Using pagination in the REST API": follow `Link: rel="next"`).
   * The next URL comes from the reply, so it must stay under our API base: the user's token is
   * sent with it.
   */
  async function paginate<T>(firstUrl: string, accessToken: string, schema: z.ZodType<T[]>, what: string): Promise<T[]> {
    const items: T[] = [];
    let url: string | undefined = `${firstUrl}?per_page=${PER_PAGE}`;
    for (let pages = 0; url !== undefined; pages++) {
      if (pages === MAX_PAGES) {
        throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `GitHub kept paginating ${new URL(firstUrl).pathname} past ${MAX_PAGES} pages`, {
          hint: `a GitHub account with more than ${MAX_PAGES * PER_PAGE} entries here is not supported; check --github-url (now ${webBaseUrl})`,
        });
      }
      const { json, headers } = await apiGet(url, accessToken, MISSING_ORG_SCOPE_HINT);
      const page = schema.safeParse(json);
      if (!page.success) throw unexpected(url, 200, headers, what);
      items.push(...page.data);
      url = nextPageUrl(headers.get('link'), url);
      if (url !== undefined && !isUnder(url, apiBaseUrl)) {
        throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `GitHub's next-page link for ${new URL(firstUrl).pathname} leaves ${apiBaseUrl}`, {
          hint: `check that --github-url (now ${webBaseUrl}) is the GitHub or GitHub Enterprise Server web address and that no proxy rewrites Link headers`,
        });
      }
    }
    return items;
  }
}

const REVOKED_HINT = 'the GitHub authorization was revoked or has expired: log in again';
const MISSING_ORG_SCOPE_HINT =
  'the GitHub token lacks read:org: the gateway asks for it only when org or team rules are configured; log in again (and let the login grant it)';

/** RFC 8288 `Link` header: the target of `rel="next"`, resolved against the page it came with. */
export function nextPageUrl(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const match of link.matchAll(/<([^>]*)>([^,<]*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(match[2] ?? '')?.[1];
    if (rel?.toLowerCase().split(/\s+/).includes('next') && match[1] !== undefined && URL.canParse(match[1], base)) {
      return new URL(match[1], base).toString();
    }
  }
  return undefined;
}

function isUnder(url: string, base: string): boolean {
  const target = new URL(url);
  const root = new URL(base);
  const path = root.pathname.replace(/\/+$/, '');
  return target.origin === root.origin && target.pathname.startsWith(`${path}/`) && !target.username && !target.password;
}
