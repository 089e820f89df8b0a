import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../runtime/errors.js';
import {
  DEFAULT_GITHUB_SCOPE,
  GITHUB_SCOPE_WITH_ORGS,
  createGitHubUpstream,
  nextPageUrl,
  resolveGitHubUrls,
  type GitHubUpstream,
} from '../runtime/auth/upstream/github-upstream.js';
import { redirectUriMatchesCallback, startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';

const CALLBACK = 'http://127.0.0.1:9/github/callback';

/** Plays the browser: follows GitHub's authorize page to the redirect it answers with. */
async function authorizeInBrowser(url: string): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') ?? '');
}

async function loginCode(upstream: GitHubUpstream, state = 'st'): Promise<string> {
  const back = await authorizeInBrowser(upstream.authorizeUrl({ state, redirectUri: CALLBACK }));
  expect(back.searchParams.get('state')).toBe(state);
  return back.searchParams.get('code') ?? '';
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

/** A plain local HTTP server for replies GitHub would never give. */
async function startTinyServer(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('GitHub upstream URLs', () => {
  it('builds the github.com authorize URL with encoded params and the read-only default scope', () => {
    const upstream = createGitHubUpstream({ baseUrl: 'https://github.com/', clientId: 'Iv1.abc', clientSecret: 's3cret' });
    const url = new URL(upstream.authorizeUrl({ state: 'a b&c=d', redirectUri: 'https://gw.example/github/callback?x=1&y=2' }));
    expect(`${url.origin}${url.pathname}`).toBe('https://github.com/login/oauth/authorize');
    expect(url.searchParams.get('client_id')).toBe('Iv1.abc');
    expect(url.searchParams.get('redirect_uri')).toBe('https://gw.example/github/callback?x=1&y=2');
    expect(url.searchParams.get('state')).toBe('a b&c=d');
    expect(url.searchParams.get('scope')).toBe('read:user');
    expect(url.search).not.toContain('s3cret');
  });

  it('puts the web flow and the API under an Enterprise Server base path', () => {
    const upstream = createGitHubUpstream({ baseUrl: 'https://ghe.example.com/github/', clientId: 'id', clientSecret: 'secret' });
    const url = new URL(upstream.authorizeUrl({ state: 's', redirectUri: 'https://gw.example/cb', scope: 'read:user read:org' }));
    expect(`${url.origin}${url.pathname}`).toBe('https://ghe.example.com/github/login/oauth/authorize');
    expect(url.searchParams.get('scope')).toBe('read:user read:org');
    expect(upstream.apiBaseUrl).toBe('https://ghe.example.com/github/api/v3');
  });

  it.each([
    ['https://github.com', 'https://api.github.com'],
    ['https://github.com/', 'https://api.github.com'],
    ['https://www.github.com', 'https://api.github.com'],
    ['https://GitHub.com', 'https://api.github.com'],
    ['https://ghe.corp.example', 'https://ghe.corp.example/api/v3'],
    ['https://ghe.corp.example:8443/', 'https://ghe.corp.example:8443/api/v3'],
    ['http://10.0.0.5/git/hub//', 'http://10.0.0.5/git/hub/api/v3'],
  ])('uses %s -> API at %s', (baseUrl, api) => {
    expect(createGitHubUpstream({ baseUrl, clientId: 'id', clientSecret: 'secret' }).apiBaseUrl).toBe(api);
  });

  it('treats a base URL that is not http(s) as a programming error', () => {
    expect(() => resolveGitHubUrls('ftp://github.com')).toThrow(TypeError);
    expect(() => resolveGitHubUrls('github.com')).toThrow(TypeError);
  });
});

describe('GitHub upstream against the stand-in', () => {
  let github: GitHubStandIn;
  let upstream: GitHubUpstream;

  beforeAll(async () => {
    github = await startGitHubStandIn();
  });
  afterAll(async () => {
    await github.close();
  });
  afterEach(() => {
    github.setCurrentUser('alice');
  });

  const make = (clientSecret = 'test-client-secret'): GitHubUpstream => createGitHubUpstream({ baseUrl: github.url, clientId: 'test-client-id', clientSecret });

  it('exchanges a login code and fetches the user who logged in', async () => {
    upstream = make();
    github.setCurrentUser('mallory');
    const token = await upstream.exchangeCode({ code: await loginCode(upstream), redirectUri: CALLBACK });
    await expect(upstream.fetchUser(token)).resolves.toEqual({ id: 1002, login: 'mallory', name: 'Mallory Mallet' });

    const exchange = github.requests.find((r) => r.path === '/login/oauth/access_token');
    expect(exchange?.method).toBe('POST');
    expect(exchange?.headers['accept']).toBe('application/json');
    expect(exchange?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(exchange?.body).get('redirect_uri')).toBe(CALLBACK);
    const userCall = github.requests.find((r) => r.path === '/api/v3/user');
    expect(userCall?.headers['authorization']).toBe(`Bearer ${token}`);
    expect(userCall?.headers['x-github-api-version']).toBe('2022-11-28');
    expect(userCall?.headers['accept']).toBe('application/vnd.github+json');
  });

  it('refuses a replayed login code with ERR_UPSTREAM_DENIED', async () => {
    upstream = make();
    const code = await loginCode(upstream);
    await upstream.exchangeCode({ code, redirectUri: CALLBACK });
    const err = await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK }));
    expect(err.code).toBe('ERR_UPSTREAM_DENIED');
    expect(err.message).not.toContain(code);
  });

  it('refuses a code exchanged for another redirect_uri', async () => {
    upstream = make();
    const code = await loginCode(upstream);
    const err = await rejection(upstream.exchangeCode({ code, redirectUri: 'http://127.0.0.1:9/elsewhere' }));
    expect(err.code).toBe('ERR_UPSTREAM_DENIED');
  });

  it('reports a wrong client secret as ERR_UPSTREAM_DENIED without the secret', async () => {
    const secret = 'wrong-secret-value-123';
    upstream = make(secret);
    const err = await rejection(upstream.exchangeCode({ code: await loginCode(upstream), redirectUri: CALLBACK }));
    expect(err.code).toBe('ERR_UPSTREAM_DENIED');
    expect(`${err.message} ${err.hint} ${err.stack}`).not.toContain(secret);
    expect(err.hint).toContain('--github-client-id');
  });

  it('confirms right client credentials without a user login (GitHub calls the made-up code bad_verification_code)', async () => {
    const before = github.requests.length;
    await expect(make().checkClientCredentials()).resolves.toBeUndefined();
    const check = github.requests.slice(before).find((r) => r.path === '/login/oauth/access_token');
    expect(new URLSearchParams(check?.body).get('redirect_uri')).toBeNull();
  });

  it('reports wrong client credentials as ERR_UPSTREAM_DENIED naming incorrect_client_credentials, without the secret', async () => {
    const secret = 'wrong-secret-value-456';
    const err = await rejection(make(secret).checkClientCredentials());
    expect(err.code).toBe('ERR_UPSTREAM_DENIED');
    expect(err.message).toContain('incorrect_client_credentials');
    expect(`${err.message} ${err.hint}`).not.toContain(secret);
  });

  it('reports a token GitHub does not know as ERR_UPSTREAM_DENIED', async () => {
    const token = 'gho_revokedrevokedrevokedrevokedrevoked';
    const err = await rejection(make().fetchUser(token));
    expect(err.code).toBe('ERR_UPSTREAM_DENIED');
    expect(`${err.message} ${err.hint}`).not.toContain(token);
  });
});

describe('GitHub upstream when GitHub misbehaves', () => {
  it('reports a closed port as ERR_UPSTREAM_UNREACHABLE quickly', async () => {
    const gone = await startTinyServer((_req, res) => res.end());
    await gone.close();
    const upstream = createGitHubUpstream({ baseUrl: gone.url, clientId: 'id', clientSecret: 'secret' });
    const started = Date.now();
    const err = await rejection(upstream.exchangeCode({ code: 'c', redirectUri: CALLBACK }));
    expect(err.code).toBe('ERR_UPSTREAM_UNREACHABLE');
    expect(err.hint).toContain('--github-url');
    expect(err.hint).toContain(gone.url);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await rejection(upstream.fetchUser('gho_x'))).code).toBe('ERR_UPSTREAM_UNREACHABLE');
  });

  it('gives up on a GitHub that never answers after timeoutMs', async () => {
    const silent = await startTinyServer(() => undefined);
    try {
      const upstream = createGitHubUpstream({ baseUrl: silent.url, clientId: 'id', clientSecret: 'secret', timeoutMs: 200 });
      const started = Date.now();
      expect((await rejection(upstream.fetchUser('gho_x'))).code).toBe('ERR_UPSTREAM_UNREACHABLE');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await silent.close();
    }
  });

  it('reports an HTML page where JSON was expected as ERR_UPSTREAM_BAD_RESPONSE', async () => {
    const portal = await startTinyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Sign in to the Wi-Fi</body></html>');
    });
    try {
      const upstream = createGitHubUpstream({ baseUrl: portal.url, clientId: 'id', clientSecret: 'secret' });
      expect((await rejection(upstream.exchangeCode({ code: 'c', redirectUri: CALLBACK }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
      expect((await rejection(upstream.fetchUser('gho_x'))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    } finally {
      await portal.close();
    }
  });

  it('reports JSON of the wrong shape as ERR_UPSTREAM_BAD_RESPONSE', async () => {
    const odd = await startTinyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 42, id: 'x' }));
    });
    try {
      const upstream = createGitHubUpstream({ baseUrl: odd.url, clientId: 'id', clientSecret: 'secret' });
      expect((await rejection(upstream.exchangeCode({ code: 'c', redirectUri: CALLBACK }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
      expect((await rejection(upstream.fetchUser('gho_x'))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    } finally {
      await odd.close();
    }
  });

  it('keeps the client secret out of the error when a proxy echoes the request back', async () => {
    const secret = 'echo/me+if you=dare';
    const echo = await startTinyServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'odd', error_description: body })));
    });
    try {
      const upstream = createGitHubUpstream({ baseUrl: echo.url, clientId: 'id', clientSecret: secret });
      const err = await rejection(upstream.exchangeCode({ code: 'c0de-c0de-c0de', redirectUri: CALLBACK }));
      expect(err.code).toBe('ERR_UPSTREAM_DENIED');
      const said = `${err.message} ${err.hint}`;
      for (const form of [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2), 'c0de-c0de-c0de']) {
        expect(said).not.toContain(form);
      }
    } finally {
      await echo.close();
    }
  });

  it('reports a 5xx as ERR_UPSTREAM_UNREACHABLE and a redirect as ERR_UPSTREAM_BAD_RESPONSE', async () => {
    const broken = await startTinyServer((req, res) => {
      if (req.url?.startsWith('/login')) res.writeHead(502).end('Bad Gateway');
      else res.writeHead(301, { location: 'https://ghe.example.com/api/v3/user' }).end();
    });
    try {
      const upstream = createGitHubUpstream({ baseUrl: broken.url, clientId: 'id', clientSecret: 'secret' });
      expect((await rejection(upstream.exchangeCode({ code: 'c', redirectUri: CALLBACK }))).code).toBe('ERR_UPSTREAM_UNREACHABLE');
      expect((await rejection(upstream.fetchUser('gho_x'))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    } finally {
      await broken.close();
    }
  });
});

describe('GitHub org and team membership', () => {
  let github: GitHubStandIn;
  const ORGS = Array.from({ length: 250 }, (_, i) => `org-${String(i).padStart(3, '0')}`);
  const TEAMS = Array.from({ length: 150 }, (_, i) => ({ org: i % 2 === 0 ? 'Acme' : 'Globex', slug: `team-${i}` }));

  beforeAll(async () => {
    github = await startGitHubStandIn({
      users: [
        { id: 2001, login: 'busy', orgs: ['Acme-Corp', ...ORGS], teams: TEAMS },
        { id: 2002, login: 'loner' },
      ],
    });
  });
  afterAll(async () => {
    await github.close();
  });
  afterEach(() => {
    github.setCurrentUser('busy');
  });

  const make = (scope?: string): GitHubUpstream =>
    createGitHubUpstream({ baseUrl: github.url, clientId: 'test-client-id', clientSecret: 'test-client-secret', ...(scope === undefined ? {} : { scope }) });
  const tokenFor = async (upstream: GitHubUpstream): Promise<string> => upstream.exchangeCode({ code: await loginCode(upstream), redirectUri: CALLBACK });

  it('asks GitHub for read:org only when configured to', () => {
    const scopeOf = (upstream: GitHubUpstream): string | null =>
      new URL(upstream.authorizeUrl({ state: 's', redirectUri: CALLBACK })).searchParams.get('scope');
    expect(scopeOf(make())).toBe(DEFAULT_GITHUB_SCOPE);
    expect(scopeOf(make(GITHUB_SCOPE_WITH_ORGS))).toBe('read:user read:org');
  });

  it('lists every organization across pages of 100, as lowercase logins', async () => {
    const upstream = make(GITHUB_SCOPE_WITH_ORGS);
    const token = await tokenFor(upstream);
    const before = github.requests.length;
    const orgs = await upstream.fetchOrgs(token);
    // 251 direct memberships plus the orgs of the user's teams, each once.
    expect(orgs).toHaveLength(253);
    expect(orgs).toEqual(expect.arrayContaining(['acme-corp', 'acme', 'globex']));
    expect(orgs).toContain('org-249');
    const pages = github.requests.slice(before).filter((r) => r.path === '/api/v3/user/orgs');
    expect(pages).toHaveLength(3);
    expect(pages.every((r) => new URL(r.url, github.url).searchParams.get('per_page') === '100')).toBe(true);
    expect(pages.every((r) => r.headers['authorization'] === `Bearer ${token}`)).toBe(true);
  });

  it('lists every team across pages as lowercase org and slug', async () => {
    const upstream = make(GITHUB_SCOPE_WITH_ORGS);
    const teams = await upstream.fetchTeams(await tokenFor(upstream));
    expect(teams).toHaveLength(150);
    expect(teams).toContainEqual({ org: 'acme', slug: 'team-0' });
    expect(teams).toContainEqual({ org: 'globex', slug: 'team-149' });
  });

  it('answers empty lists for a user in no organization', async () => {
    github.setCurrentUser('loner');
    const upstream = make(GITHUB_SCOPE_WITH_ORGS);
    const token = await tokenFor(upstream);
    await expect(upstream.fetchOrgs(token)).resolves.toEqual([]);
    await expect(upstream.fetchTeams(token)).resolves.toEqual([]);
  });

  it('reports a token without read:org as ERR_UPSTREAM_DENIED with a hint naming the scope', async () => {
    const upstream = make();
    const token = await tokenFor(upstream);
    for (const call of [upstream.fetchOrgs(token), upstream.fetchTeams(token)]) {
      const err = await rejection(call);
      expect(err.code).toBe('ERR_UPSTREAM_DENIED');
      expect(err.hint).toContain('read:org');
      expect(`${err.message} ${err.hint}`).not.toContain(token);
    }
  });

  it('reports a revoked token as ERR_UPSTREAM_DENIED', async () => {
    expect((await rejection(make(GITHUB_SCOPE_WITH_ORGS).fetchOrgs('gho_revokedrevokedrevoked'))).code).toBe('ERR_UPSTREAM_DENIED');
  });
});

describe('GitHub pagination when GitHub misbehaves', () => {
  const orgsPage = (n: number): string => JSON.stringify([{ login: `org-${n}` }]);

  it('never sends the token to a next-page link outside the API', async () => {
    let evilCalls = 0;
    const evil = await startTinyServer((_req, res) => {
      evilCalls++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    const api = await startTinyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', link: `<${evil.url}/api/v3/user/orgs?page=2>; rel="next"` }).end(orgsPage(1));
    });
    try {
      const upstream = createGitHubUpstream({ baseUrl: api.url, clientId: 'id', clientSecret: 'secret' });
      expect((await rejection(upstream.fetchOrgs('gho_token_for_api_only'))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
      expect(evilCalls).toBe(0);
    } finally {
      await Promise.all([evil.close(), api.close()]);
    }
  });

  it('stops a pagination loop after 10 pages', async () => {
    let calls = 0;
    const looping = await startTinyServer((req, res) => {
      calls++;
      res.writeHead(200, { 'content-type': 'application/json', link: `<${req.url ?? '/'}>; rel="next"` }).end(orgsPage(calls));
    });
    try {
      const upstream = createGitHubUpstream({ baseUrl: looping.url, clientId: 'id', clientSecret: 'secret' });
      expect((await rejection(upstream.fetchOrgs('gho_x'))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
      expect(calls).toBe(10);
    } finally {
      await looping.close();
    }
  });

  it('reports an exhausted rate limit as ERR_UPSTREAM_UNREACHABLE', async () => {
    const limited = await startTinyServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json', 'x-ratelimit-remaining': '0' }).end(JSON.stringify({ message: 'API rate limit exceeded' }));
    });
    try {
      const upstream = createGitHubUpstream({ baseUrl: limited.url, clientId: 'id', clientSecret: 'secret' });
      const err = await rejection(upstream.fetchOrgs('gho_x'));
      expect(err.code).toBe('ERR_UPSTREAM_UNREACHABLE');
      expect(err.hint).toContain('rate-limited');
    } finally {
      await limited.close();
    }
  });

  it.each([
    ['<https://api.github.com/user/orgs?page=2>; rel="next", <https://api.github.com/user/orgs?page=5>; rel="last"', 'https://api.github.com/user/orgs?page=2'],
    ['<https://api.github.com/user/orgs?page=1>; rel="prev", <https://api.github.com/user/orgs?page=3>; rel="next"', 'https://api.github.com/user/orgs?page=3'],
    ['<https://api.github.com/user/orgs?page=1>; rel="first"', undefined],
    ['</api/v3/user/teams?page=2>; rel=next', 'https://ghe.example/api/v3/user/teams?page=2'],
    ['', undefined],
  ])('reads the next page from Link %j', (link, next) => {
    expect(nextPageUrl(link, 'https://ghe.example/api/v3/user/teams')).toBe(next);
  });
});

describe('GitHub stand-in', () => {
  let github: GitHubStandIn;

  beforeAll(async () => {
    github = await startGitHubStandIn({
      clients: [
        { clientId: 'test-client-id', clientSecret: 'test-client-secret' },
        { clientId: 'registered', clientSecret: 'registered-secret', callbackUrl: 'https://gw.example/github/callback' },
      ],
      users: [
        { id: 1001, login: 'alice', orgs: ['acme'], teams: [{ org: 'acme', slug: 'platform' }] },
        { id: 1002, login: 'mallory' },
      ],
    });
  });
  afterAll(async () => {
    await github.close();
  });
  afterEach(() => {
    github.setCurrentUser('alice');
  });

  const authorize = (params: Record<string, string>): Promise<Response> =>
    fetch(`${github.url}/login/oauth/authorize?${new URLSearchParams(params).toString()}`, { redirect: 'manual' });

  async function tokenFor(scope: string): Promise<string> {
    const back = await authorizeInBrowser(
      `${github.url}/login/oauth/authorize?${new URLSearchParams({ client_id: 'test-client-id', redirect_uri: CALLBACK, scope }).toString()}`,
    );
    const res = await fetch(`${github.url}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'test-client-id', client_secret: 'test-client-secret', code: back.searchParams.get('code') }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }

  it('redirects with error=access_denied and the state when the user clicks Cancel', async () => {
    github.setCurrentUser(null);
    const res = await authorize({ client_id: 'test-client-id', redirect_uri: CALLBACK, state: 'xyz' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location') ?? '');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('xyz');
    expect(back.searchParams.has('code')).toBe(false);
  });

  it('shows an error page and never redirects for an unknown client_id', async () => {
    const res = await authorize({ client_id: 'nobody', redirect_uri: CALLBACK, state: 'xyz' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toContain('text/html');
  });

  it('shows an error page for a redirect_uri outside the registered callback URL', async () => {
    const res = await authorize({ client_id: 'registered', redirect_uri: 'https://evil.example/github/callback' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const ok = await authorize({ client_id: 'registered', redirect_uri: 'https://gw.example/github/callback/sub', state: 's' });
    expect(ok.status).toBe(302);
  });

  it.each([
    ['http://example.com/path', true],
    ['http://example.com/path/subdir/other', true],
    ['http://oauth.example.com/path', true],
    ['http://oauth.example.com/path/subdir/other', true],
    ['http://example.com/bar', false],
    ['http://example.com/', false],
    ['http://example.com:8080/path', false],
    ['http://oauth.example.com:8080/path', false],
    ['http://example.org', false],
    ['http://example.com/pathology', false],
  ])("applies GitHub's documented redirect rule to %s", (redirect, good) => {
    expect(redirectUriMatchesCallback(redirect, 'http://example.com/path')).toBe(good);
  });

  it('lets a loopback callback take any port, as GitHub documents for native apps', () => {
    expect(redirectUriMatchesCallback('http://127.0.0.1:1234/path', 'http://127.0.0.1/path')).toBe(true);
  });

  it('answers the token endpoint form-encoded unless JSON is asked for, with errors on HTTP 200', async () => {
    const res = await fetch(`${github.url}/login/oauth/access_token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'test-client-id', client_secret: 'test-client-secret', code: 'never-issued' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-www-form-urlencoded');
    expect(new URLSearchParams(await res.text()).get('error')).toBe('bad_verification_code');
  });

  it('refuses a code older than ten minutes', async () => {
    let now = Date.now();
    const clocked = await startGitHubStandIn({ now: () => now });
    try {
      const upstream = createGitHubUpstream({ baseUrl: clocked.url, clientId: 'test-client-id', clientSecret: 'test-client-secret' });
      const code = await loginCode(upstream);
      now += 10 * 60 * 1000 + 1;
      expect((await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK }))).code).toBe('ERR_UPSTREAM_DENIED');
    } finally {
      await clocked.close();
    }
  });

  it('answers the REST API with Bad credentials for an unknown token, under either auth scheme', async () => {
    for (const scheme of ['Bearer', 'token']) {
      const res = await fetch(`${github.url}/api/v3/user`, { headers: { authorization: `${scheme} gho_unknown` } });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ message: 'Bad credentials' });
    }
    const token = await tokenFor('read:user');
    const res = await fetch(`${github.url}/api/v3/user`, { headers: { authorization: `token ${token}` } });
    expect(await res.json()).toMatchObject({ id: 1001, login: 'alice' });
  });

  it('lists orgs and teams only for a token with read:org, as the REST docs require', async () => {
    const narrow = await tokenFor('read:user');
    const denied = await fetch(`${github.url}/api/v3/user/orgs`, { headers: { authorization: `Bearer ${narrow}` } });
    expect(denied.status).toBe(403);

    const wide = await tokenFor('read:user read:org');
    const orgs = await fetch(`${github.url}/api/v3/user/orgs`, { headers: { authorization: `Bearer ${wide}` } });
    expect(((await orgs.json()) as Array<{ login: string }>).map((o) => o.login)).toEqual(['acme']);
    const teams = await fetch(`${github.url}/api/v3/user/teams`, { headers: { authorization: `Bearer ${wide}` } });
    expect(await teams.json()).toMatchObject([{ slug: 'platform', organization: { login: 'acme' } }]);
  });

  it("serves the REST API at the root with apiPrefix ''", async () => {
    const rootApi = await startGitHubStandIn({ apiPrefix: '' });
    try {
      const res = await fetch(`${rootApi.url}/user`);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ message: 'Requires authentication' });
    } finally {
      await rootApi.close();
    }
  });

  it('records every request it receives', () => {
    expect(github.requests.length).toBeGreaterThan(0);
    expect(github.requests.every((r) => typeof r.method === 'string' && r.path.startsWith('/'))).toBe(true);
  });
});
