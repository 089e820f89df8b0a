import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { manifestRoutes, type StandInApp, type SubmittedManifest } from './app-manifests.js';

/**
 * A stand-in for GitHub (this machine cannot reach it), built from GitHub's documented API:
 * "Authorizing OAuth apps" (web flow, redirect URL rules), "Troubleshooting OAuth app access
 * token request errors" and "Troubleshooting authorization request errors", and the REST
 * reference for `GET /user`, `/user/orgs` and `/user/teams`; GitHub Apps created through the
 * manifest flow (./app-manifests.ts) log users in through the same web flow ("Generating a user
 * access token for a GitHub App"). Where it chooses between readings of the docs it takes the
 * stricter one, so a gateway that passes here also passes on GitHub.
 *
 * Users are accounts with a numeric `id` that never changes and a `login` that can
 * (`renameUser`; GitHub frees the old login for anyone to take, "Changing your GitHub username"):
 * codes and tokens belong to the account, so after a rename `GET /user` answers the new login.
 *
 * Simplifications: the browser user is whoever `setCurrentUser` names and has already granted
 * the app (no consent page); scopes are recorded and enforced only where the REST docs name one.
 * A GitHub App's user token ignores scopes and carries the app's permissions instead; the
 * organization "Members" permission is required for both `/user/orgs` and `/user/teams` (the
 * stricter reading), and installations are not modelled (on GitHub the app must also be installed
 * on an organization for its user tokens to see it).
 */

export interface StandInClient {
  clientId: string;
  clientSecret: string;
  /** The OAuth app's registered callback URL; without one any redirect_uri is accepted. */
  callbackUrl?: string;
  /**
   * Set for a GitHub App: its permissions (its user tokens get these, not scopes), and its
   * callback URLs, which a redirect_uri must equal exactly.
   */
  app?: { permissions: Record<string, string>; callbackUrls: string[] };
}

export interface StandInUser {
  id: number;
  login: string;
  name?: string;
  orgs?: string[];
  teams?: Array<{ org: string; slug: string }>;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path with the query string, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body?: string;
}

export interface GitHubStandIn {
  /** Base URL, e.g. http://127.0.0.1:PORT (use as `provider.url`: the API is at `{url}/api/v3` by default). */
  url: string;
  /** Who is logged in to "GitHub" in the browser; null means the user clicks Cancel on the authorize page. */
  setCurrentUser(login: string | null): void;
  /** A new account (its login must be free). */
  addUser(user: StandInUser): void;
  /** The account keeps its id, tokens and memberships; the old login is free to be taken. */
  renameUser(login: string, newLogin: string): void;
  addClient(client: StandInClient): void;
  /** Every request received, in order (tests assert, e.g., that no client token ever reaches GitHub). */
  requests: RecordedRequest[];
  /** Manifests submitted to `/settings/apps/new` (or an organization's), valid ones only. */
  manifests: SubmittedManifest[];
  /** GitHub Apps created by converting a manifest code, credentials included. */
  apps: StandInApp[];
  close(): Promise<void>;
}

export interface GitHubStandInOptions {
  clients?: StandInClient[];
  users?: StandInUser[];
  apiPrefix?: '/api/v3' | '';
  /** Clock for code expiry (ms since epoch). */
  now?: () => number;
  /** Address to listen on; default 127.0.0.1 (the Docker test uses the bridge gateway, which containers reach). */
  host?: string;
}

export const DEFAULT_STAND_IN_CLIENT: StandInClient = { clientId: 'test-client-id', clientSecret: 'test-client-secret' };
export const DEFAULT_STAND_IN_USERS: StandInUser[] = [
  { id: 1001, login: 'alice', name: 'Alice Liddell', orgs: ['acme'], teams: [{ org: 'acme', slug: 'platform' }] },
  { id: 1002, login: 'mallory', name: 'Mallory Mallet' },
];

/** GitHub Apps: "must be an exact match to one of the URLs you provided as a Callback URL". OAuth apps: the rule above. */
function redirectAllowed(client: StandInClient, redirectUri: string): boolean {
  if (client.app) return client.app.callbackUrls.includes(redirectUri);
  return !client.callbackUrl || redirectUriMatchesCallback(redirectUri, client.callbackUrl);
}

/** GitHub's codes "expire after 10 minutes". */
const CODE_TTL_MS = 10 * 60 * 1000;
const SUPPORTED_API_VERSIONS = new Set(['2022-11-28', '2026-03-10']);
const DOCS = 'https://docs.github.com/rest';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/**
 * GitHub's redirect URL rule: host (sub-domains allowed) and port must match the callback URL,
 * and the path must be the callback path or below it. A loopback callback accepts any port.
 */
export function redirectUriMatchesCallback(redirectUri: string, callbackUrl: string): boolean {
  let redirect: URL;
  let callback: URL;
  try {
    redirect = new URL(redirectUri);
    callback = new URL(callbackUrl);
  } catch {
    return false;
  }
  if (redirect.protocol !== callback.protocol || redirect.hash || redirect.username || redirect.password) return false;
  const sameHost = redirect.hostname === callback.hostname || redirect.hostname.endsWith(`.${callback.hostname}`);
  const samePort = LOOPBACK_HOSTS.has(callback.hostname) || redirect.port === callback.port;
  const base = callback.pathname.replace(/\/+$/, '');
  const underPath = redirect.pathname === callback.pathname || redirect.pathname === base || redirect.pathname.startsWith(`${base}/`);
  return sameHost && samePort && underPath;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string | undefined;
  userId: number;
  scope: string;
  expiresAt: number;
}

export async function startGitHubStandIn(options: GitHubStandInOptions = {}): Promise<GitHubStandIn> {
  const { apiPrefix = '/api/v3', now = Date.now, host = '127.0.0.1' } = options;
  const clients = new Map<string, StandInClient>();
  /** By id, which is what GitHub's tokens belong to; logins are looked up (case-insensitively, as GitHub does). */
  const users = new Map<number, StandInUser>();
  const byLogin = (login: string): StandInUser | undefined => [...users.values()].find((u) => u.login.toLowerCase() === login.toLowerCase());
  const addUser = (u: StandInUser): void => {
    if (users.has(u.id) || byLogin(u.login)) throw new TypeError(`duplicate stand-in user ${u.login} (${u.id})`);
    // The caller's object itself: tests change memberships on it while the stand-in runs.
    users.set(u.id, u);
  };
  for (const c of options.clients ?? [DEFAULT_STAND_IN_CLIENT]) clients.set(c.clientId, c);
  // Copies of the defaults, so a rename in one test does not leak into the next.
  for (const u of options.users ?? DEFAULT_STAND_IN_USERS.map((d) => ({ ...d }))) addUser(u);
  let currentUser: number | null = byLogin('alice')?.id ?? [...users.keys()][0] ?? null;
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, { userId: number; scopes: Set<string>; appPermissions?: Record<string, string> }>();
  const manifests: SubmittedManifest[] = [];
  const apps: StandInApp[] = [];
  const orgIds = new Map<string, number>();
  const orgId = (org: string): number => {
    const known = orgIds.get(org);
    if (known !== undefined) return known;
    const id = 5001 + orgIds.size;
    orgIds.set(org, id);
    return id;
  };
  const requests: RecordedRequest[] = [];

  const app = express();
  app.disable('x-powered-by');
  app.use(express.raw({ type: () => true, limit: '1mb' }));
  app.use((req, _res, next) => {
    const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body.toString('utf8') : undefined;
    requests.push({ method: req.method, path: req.path, url: req.originalUrl, headers: { ...req.headers }, ...(body === undefined ? {} : { body }) });
    next();
  });

  app.get('/login/oauth/authorize', (req, res) => {
    const q = queryOf(req);
    const client = clients.get(q.get('client_id') ?? '');
    // Unknown app or unusable redirect: GitHub shows its own page and never redirects.
    if (!client) return void errorPage(res, 404, 'No OAuth app has this client_id.');
    const requested = q.get('redirect_uri') ?? undefined;
    if (requested !== undefined) {
      if (!URL.canParse(requested)) return void errorPage(res, 400, 'The redirect_uri is not a URL.');
      if (!redirectAllowed(client, requested)) {
        return void errorPage(res, 400, 'The redirect_uri is not associated with this application.');
      }
    }
    const target = requested ?? client.app?.callbackUrls[0] ?? client.callbackUrl;
    if (!target) return void errorPage(res, 400, 'This application has no callback URL.');
    const back = new URL(target);
    const state = q.get('state');
    if (currentUser === null) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user has denied your application access.');
      back.searchParams.set('error_uri', '/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied');
    } else {
      const code = randomBytes(10).toString('hex');
      codes.set(code, {
        clientId: client.clientId,
        redirectUri: requested,
        userId: currentUser,
        scope: normaliseScope(q.get('scope') ?? ''),
        expiresAt: now() + CODE_TTL_MS,
      });
      back.searchParams.set('code', code);
    }
    if (state !== null) back.searchParams.set('state', state);
    res.redirect(302, back.toString());
  });

  app.post('/login/oauth/access_token', (req, res) => {
    // GitHub takes the parameters from the query string or the body, JSON or form.
    const params = new Map(queryOf(req));
    for (const [k, v] of Object.entries(bodyParams(req))) params.set(k, v);
    const reply = (fields: Record<string, string | number>): void => {
      if ((req.get('accept') ?? '').includes('application/json')) res.status(200).json(fields);
      else
        res
          .status(200)
          .type('application/x-www-form-urlencoded; charset=utf-8')
          .send(new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)])).toString());
    };
    const fail = (error: keyof typeof TOKEN_ERRORS): void => reply({ error, ...TOKEN_ERRORS[error] });

    const client = clients.get(params.get('client_id') ?? '');
    if (!client || client.clientSecret !== params.get('client_secret')) return fail('incorrect_client_credentials');
    const code = params.get('code') ?? '';
    const issued = codes.get(code);
    codes.delete(code); // single use, whatever happens next
    if (!issued || issued.clientId !== client.clientId || issued.expiresAt <= now()) return fail('bad_verification_code');
    const redirectUri = params.get('redirect_uri');
    // Optional here, but when sent it must be the one the code was issued for.
    if (redirectUri) {
      const expected = issued.redirectUri;
      if (expected !== undefined ? redirectUri !== expected : !redirectAllowed(client, redirectUri)) {
        return fail('redirect_uri_mismatch');
      }
    }
    if (client.app) {
      // A GitHub App's user access token: no scopes, expires after 8 hours, comes with a refresh token.
      const accessToken = `ghu_${randomBytes(18).toString('hex')}`;
      tokens.set(accessToken, { userId: issued.userId, scopes: new Set(), appPermissions: client.app.permissions });
      return reply({
        access_token: accessToken,
        expires_in: 28800,
        refresh_token: `ghr_${randomBytes(30).toString('hex')}`,
        refresh_token_expires_in: 15811200,
        token_type: 'bearer',
        scope: '',
      });
    }
    const accessToken = `gho_${randomBytes(18).toString('hex')}`;
    tokens.set(accessToken, { userId: issued.userId, scopes: new Set(issued.scope.split(',').filter(Boolean)) });
    reply({ access_token: accessToken, token_type: 'bearer', scope: issued.scope });
  });

  const api = express.Router();
  api.use((req, res, next) => {
    const version = req.get('x-github-api-version');
    if (version !== undefined && !SUPPORTED_API_VERSIONS.has(version)) {
      return void apiError(res, 400, `Invalid API version provided: ${version}`);
    }
    const header = req.get('authorization');
    if (!header) return void apiError(res, 401, 'Requires authentication');
    const match = /^(?:bearer|token)\s+(\S+)$/i.exec(header);
    const grant = match?.[1] === undefined ? undefined : tokens.get(match[1]);
    const user = grant && users.get(grant.userId);
    if (!grant || !user) return void apiError(res, 401, 'Bad credentials');
    if (!grant.appPermissions) res.set('x-oauth-scopes', [...grant.scopes].join(', '));
    res.locals['user'] = user;
    res.locals['scopes'] = grant.scopes;
    res.locals['appPermissions'] = grant.appPermissions;
    next();
  });
  api.get('/user', (_req, res) => void res.json(userJson(res.locals['user'] as StandInUser)));
  api.get('/user/orgs', (req, res) => {
    if (!hasScope(res, ['user', 'read:org', 'write:org', 'admin:org'])) return;
    const user = res.locals['user'] as StandInUser;
    page(
      req,
      res,
      orgsOf(user).map((org) => ({ login: org, id: orgId(org), url: `${apiUrl()}/orgs/${org}`, description: null })),
    );
  });
  api.get('/user/teams', (req, res) => {
    if (!hasScope(res, ['user', 'repo', 'read:org', 'write:org', 'admin:org'])) return;
    const user = res.locals['user'] as StandInUser;
    const teams = (user.teams ?? []).map((t, i) => ({
      id: user.id * 100 + i,
      name: t.slug,
      slug: t.slug,
      privacy: 'closed',
      permission: 'pull',
      url: `${apiUrl()}/orgs/${t.org}/teams/${t.slug}`,
      organization: { login: t.org, id: orgId(t.org), url: `${apiUrl()}/orgs/${t.org}` },
    }));
    page(req, res, teams);
  });
  const manifestFlow = manifestRoutes({
    baseUrl: () => url,
    apiUrl: () => apiUrl(),
    now,
    signedIn: () => {
      const user = currentUser === null ? undefined : users.get(currentUser);
      return user ? { login: user.login, orgs: orgsOf(user) } : null;
    },
    registerClient: (created) =>
      clients.set(created.clientId, {
        clientId: created.clientId,
        clientSecret: created.clientSecret,
        app: { permissions: created.permissions, callbackUrls: created.callbackUrls },
      }),
    submitted: manifests,
    apps,
  });
  app.use(manifestFlow.web);
  // Before the authenticated API: the conversion needs no credentials, only the code.
  app.use(apiPrefix || '/', manifestFlow.api);
  app.use(apiPrefix || '/', api);
  app.use((_req, res) => apiError(res, 404, 'Not Found'));

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  const apiUrl = (): string => `${url}${apiPrefix}`;

  /** The documented fields a login flow reads; GitHub sends many more. */
  const userJson = (user: StandInUser): Record<string, unknown> => ({
    login: user.login,
    id: user.id,
    node_id: `U_${user.id}`,
    url: `${apiUrl()}/users/${user.login}`,
    html_url: `${url}/${user.login}`,
    type: 'User',
    site_admin: false,
    name: user.name ?? null,
    email: null,
  });

  return {
    url,
    requests,
    manifests,
    apps,
    setCurrentUser(login) {
      if (login === null) return void (currentUser = null);
      const user = byLogin(login);
      if (!user) throw new TypeError(`unknown stand-in user ${login}`);
      currentUser = user.id;
    },
    addUser,
    renameUser(login, newLogin) {
      const user = byLogin(login);
      if (!user) throw new TypeError(`unknown stand-in user ${login}`);
      if (byLogin(newLogin)) throw new TypeError(`the login ${newLogin} is taken`);
      user.login = newLogin;
    },
    addClient(client) {
      clients.set(client.clientId, client);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const TOKEN_ERRORS = {
  incorrect_client_credentials: {
    error_description: 'The client_id and/or client_secret passed are incorrect.',
    error_uri: '/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials',
  },
  redirect_uri_mismatch: {
    error_description: 'The redirect_uri MUST match the registered callback URL for this application.',
    error_uri: '/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2',
  },
  bad_verification_code: {
    error_description: 'The code passed is incorrect or expired.',
    error_uri: '/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
  },
} as const;

function queryOf(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://stand-in').searchParams;
}

function bodyParams(req: Request): Record<string, string> {
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) return {};
  const text = req.body.toString('utf8');
  if (req.is('application/json')) {
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json !== 'object' || json === null) return {};
      return Object.fromEntries(Object.entries(json).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/** GitHub reports granted scopes comma-separated ("repo,gist"); requests separate them with spaces. */
function normaliseScope(scope: string): string {
  return [...new Set(scope.split(/[\s,]+/).filter(Boolean))].join(',');
}

function orgsOf(user: StandInUser): string[] {
  return [...new Set([...(user.orgs ?? []), ...(user.teams ?? []).map((t) => t.org)])];
}

function hasScope(res: Response, accepted: string[]): boolean {
  const appPermissions = res.locals['appPermissions'] as Record<string, string> | undefined;
  if (appPermissions) {
    if (appPermissions['members'] === 'read' || appPermissions['members'] === 'write') return true;
    res.set('x-accepted-github-permissions', 'members=read');
    apiError(res, 403, 'Resource not accessible by integration');
    return false;
  }
  const scopes = res.locals['scopes'] as Set<string>;
  if (accepted.some((s) => scopes.has(s))) return true;
  res.set('x-accepted-oauth-scopes', accepted.join(', '));
  apiError(res, 403, `This endpoint needs one of these OAuth scopes: ${accepted.join(', ')}`);
  return false;
}

function page(req: Request, res: Response, items: unknown[]): void {
  const q = queryOf(req);
  const perPage = Math.min(Math.max(Number(q.get('per_page')) || 30, 1), 100);
  const pageNo = Math.max(Number(q.get('page')) || 1, 1);
  if (items.length > pageNo * perPage) {
    const next = new URL(req.originalUrl, `${req.protocol}://${req.get('host') ?? 'localhost'}`);
    next.searchParams.set('page', String(pageNo + 1));
    res.set('link', `<${next.toString()}>; rel="next"`);
  }
  res.json(items.slice((pageNo - 1) * perPage, pageNo * perPage));
}

function apiError(res: Response, status: number, message: string): void {
  res.status(status).json({ message, documentation_url: DOCS, status: String(status) });
}

function errorPage(res: Response, status: number, message: string): void {
  const safe = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res.status(status).type('html').send(`<!DOCTYPE html><html><head><title>GitHub</title></head><body><h1>${safe}</h1></body></html>`);
}
