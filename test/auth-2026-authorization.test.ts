import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentProblem, parseCimdDocument } from '../runtime/auth/clients/cimd/cimd-document.js';
import { gatewayUrls } from '../runtime/auth/gateway-urls.js';
import { createGitHubLogin } from '../runtime/auth/upstream/github-login.js';
import { DEFAULT_GITHUB_SCOPE, createGitHubUpstream } from '../runtime/auth/upstream/github-upstream.js';
import { freePort } from './helpers/free-port.js';
import { ECHO_FIXTURE, startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { CLIENT_REDIRECT, authorizeUrl, loginAndConsent, newPkce, registerClient, tokenRequest } from './helpers/oauth-flow.js';
import { TestBrowser } from './helpers/test-browser.js';

/**
 * MCP 2026-07-28 authorization (basic/authorization/client-registration.mdx and index.mdx) on a
 * server that 2025 clients keep using: `application_type` at registration with OpenID Connect
 * Registration 1.0 §2's redirect URI constraints, the same in Client ID Metadata Documents, RFC
 * 9207 `iss` on every authorization response, and discovery documents that advertise both CIMD
 * and DCR. A 2025 client sends no `application_type`, and for it nothing changes.
 */
let h: GatewayHarness;
let echo: string;
let docs: Server;
let docsBase: string;
const documents = new Map<string, unknown>();

// Real callbacks (DESIGN.md): remote web clients, then what local and native clients register.
const WEB_CALLBACKS = [
  'https://claude.ai/api/mcp/auth_callback',
  'https://claude.com/api/mcp/auth_callback',
  'https://chatgpt.com/connector/oauth/c-4f2a9b',
  'https://chatgpt.com/connector_platform_oauth_redirect',
];
const NATIVE_CALLBACKS = [
  'http://localhost:33418/callback',
  'http://127.0.0.1:53682/callback',
  'http://[::1]:8976/oauth/callback',
  'cursor://anysphere.cursor-mcp/oauth/callback',
  'com.example.mcp-client:/oauth2redirect',
  'https://app.example.com/oauth/callback',
];

beforeAll(async () => {
  // Client ID Metadata Documents over plain http on loopback: allowed only with allowPrivateNetworks (tests, local development).
  docs = createServer((req, res) => {
    const doc = documents.get(req.url ?? '');
    if (doc === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
  docsBase = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
  h = await startGatewayHarness(
    {
      clients: { registrationsPer10Min: 1000 },
      servers: {
        echo: { command: process.execPath, args: [ECHO_FIXTURE], scopes: ['tools:read'] },
        other: { command: process.execPath, args: [ECHO_FIXTURE] },
      },
    },
    { cimd: { allowPrivateNetworks: true, failureCacheMs: 0 } },
  );
  echo = h.urls.resourceFor('echo');
});
afterAll(async () => {
  await h?.close();
  docs?.close();
});

async function register(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(h.urls.registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const metadata = (extra: Record<string, unknown>) => ({ client_name: '2026 client', token_endpoint_auth_method: 'none', ...extra });

describe('application_type at dynamic client registration', () => {
  it('registers a web client with the https callbacks Claude and ChatGPT use, and returns application_type web', async () => {
    const res = await register(metadata({ application_type: 'web', redirect_uris: WEB_CALLBACKS }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body['application_type']).toBe('web');
    expect(res.body['redirect_uris']).toEqual(WEB_CALLBACKS);
  });

  it('registers a web client served from localhost (OIDC requires https only of implicit-grant web clients)', async () => {
    const res = await register(metadata({ application_type: 'web', redirect_uris: ['http://localhost:6274/oauth/callback'] }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body['application_type']).toBe('web');
  });

  it('registers a native client with loopback, private-use and claimed https redirect URIs', async () => {
    const res = await register(metadata({ application_type: 'native', redirect_uris: NATIVE_CALLBACKS }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body['application_type']).toBe('native');
    expect(res.body['redirect_uris']).toEqual(NATIVE_CALLBACKS);
  });

  it('keeps the 2025 policy when application_type is absent and echoes no default', async () => {
    const uris = [...WEB_CALLBACKS, ...NATIVE_CALLBACKS];
    for (const body of [metadata({ redirect_uris: uris }), metadata({ redirect_uris: uris, application_type: null })]) {
      const res = await register(body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).not.toHaveProperty('application_type');
      const read = await fetch(String(res.body['registration_client_uri']), {
        headers: { authorization: `Bearer ${String(res.body['registration_access_token'])}` },
      });
      expect((await read.json()) as Record<string, unknown>).not.toHaveProperty('application_type');
    }
  });

  it('refuses an application_type that is not "web" or "native" with invalid_client_metadata, never echoing it', async () => {
    const huge = `native${'x'.repeat(20_000)}`;
    for (const value of ['browser', 'Native', 'web ', '', 'user_agent', huge, 5, 0, true, ['native'], { type: 'native' }, 'native\u202e']) {
      const res = await register(metadata({ application_type: value, redirect_uris: [CLIENT_REDIRECT] }));
      expect(res.status, JSON.stringify(value).slice(0, 80)).toBe(400);
      expect(res.body['error']).toBe('invalid_client_metadata');
      const description = String(res.body['error_description']);
      expect(description).toMatch(/^application_type: must be "web" or "native"/);
      expect(description.length).toBeLessThan(200);
    }
  });

  it('refuses a redirect URI that the stated application_type does not allow, naming the rule', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['web', 'cursor://anysphere.cursor-mcp/oauth/callback', /private-use scheme cursor:.*application_type "web".*application_type "native"/],
      ['web', 'com.example.mcp-client:/oauth2redirect', /application_type "web"/],
      ['native', 'https://localhost:8443/callback', /https on a loopback host: application_type "native"/],
      ['native', 'https://127.0.0.1/callback', /https on a loopback host/],
      ['web', 'http://app.example.com/callback', /http on a non-loopback host/],
      ['native', 'http://app.example.com/callback', /http on a non-loopback host/],
      ['web', 'javascript:alert(1)', /forbidden scheme javascript:/],
      ['native', 'https://app.example.com/cb#frag', /fragment/],
    ];
    for (const [type, uri, rule] of cases) {
      const res = await register(metadata({ application_type: type, redirect_uris: [uri] }));
      expect(res.status, `${type} ${uri}`).toBe(400);
      expect(res.body['error']).toBe('invalid_redirect_uri');
      expect(String(res.body['error_description'])).toMatch(rule);
    }
  });

  it('refuses the whole registration when one redirect URI of several does not fit', async () => {
    const res = await register(metadata({ application_type: 'web', redirect_uris: [WEB_CALLBACKS[0], 'cursor://anysphere.cursor-mcp/oauth/callback'] }));
    expect(res.status).toBe(400);
    expect(res.body['error']).toBe('invalid_redirect_uri');
    expect(String(res.body['error_description'])).toContain('cursor://anysphere.cursor-mcp/oauth/callback');
  });

  it('accepts the retry as native that the MCP spec allows after a refusal as web', async () => {
    const uris = ['cursor://anysphere.cursor-mcp/oauth/callback'];
    expect((await register(metadata({ redirect_uris: uris, application_type: 'web' }))).status).toBe(400);
    const retry = await register(metadata({ redirect_uris: uris, application_type: 'native' }));
    expect(retry.status).toBe(201);
    expect(retry.body['application_type']).toBe('native');
  });

  it('answers hostile registration bodies with 4xx and an OAuth error, never 500', async () => {
    const bodies: unknown[] = [
      metadata({ application_type: { $ne: null }, redirect_uris: [CLIENT_REDIRECT] }),
      metadata({ application_type: [[[['native']]]], redirect_uris: [CLIENT_REDIRECT] }),
      metadata({ application_type: 'native', redirect_uris: 'cursor://x/cb' }),
      metadata({ application_type: 'native', redirect_uris: [42] }),
      metadata({ application_type: 'web', redirect_uris: [] }),
      metadata({ application_type: 'native', redirect_uris: [`cursor://x/${'a'.repeat(3000)}`] }),
      metadata({ application_type: 'native', redirect_uris: ['cursor://x/\u202ecb'] }),
      { application_type: 'native' },
      ['native'],
    ];
    for (const body of bodies) {
      const res = await register(body);
      expect(res.status, JSON.stringify(body).slice(0, 120)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(['invalid_client_metadata', 'invalid_redirect_uri']).toContain(res.body['error']);
      expect(String(res.body['error_description']).length).toBeLessThan(400);
    }
  });

  it('lets a native client complete the code flow on another loopback port and refresh', async () => {
    const client = await registerClient(h, { application_type: 'native' });
    expect(client['application_type']).toBe('native');
    const pkce = newPkce();
    // RFC 8252 §7.3: the port is chosen at run time, so a loopback redirect matches on any port.
    const redirect = CLIENT_REDIRECT.replace('53682', '41234');
    const result = await loginAndConsent(
      h,
      {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: redirect,
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        resource: echo,
      },
      new TestBrowser(redirect),
    );
    const code = result.redirectedTo?.searchParams.get('code');
    expect(code, result.page?.body.slice(0, 300)).toBeTruthy();
    expect(result.redirectedTo?.searchParams.get('iss')).toBe(h.urls.issuer);
    const token = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code: code!,
      code_verifier: pkce.verifier,
      redirect_uri: redirect,
      client_id: client.client_id,
    });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: String(token.body['refresh_token']), client_id: client.client_id });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  });
});

describe('RFC 7592 client management keeps application_type', () => {
  it('returns it from GET and PUT; a refused PUT changes nothing; a PUT without it removes it', async () => {
    const created = await register(metadata({ application_type: 'native', redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'] }));
    expect(created.status).toBe(201);
    const uri = String(created.body['registration_client_uri']);
    const auth = { authorization: `Bearer ${String(created.body['registration_access_token'])}` };
    const clientId = String(created.body['client_id']);
    const read = async () => (await (await fetch(uri, { headers: auth })).json()) as Record<string, unknown>;
    const put = async (body: Record<string, unknown>) => {
      const res = await fetch(uri, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: clientId, ...body }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    expect((await read())['application_type']).toBe('native');

    const updated = await put(
      metadata({ application_type: 'native', redirect_uris: ['http://127.0.0.1/callback', 'cursor://anysphere.cursor-mcp/oauth/callback'] }),
    );
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body['application_type']).toBe('native');
    expect(await read()).toMatchObject({
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/callback', 'cursor://anysphere.cursor-mcp/oauth/callback'],
    });

    const wrongType = await put(metadata({ application_type: 'web', redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'] }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.body['error']).toBe('invalid_redirect_uri');
    const invalid = await put(metadata({ application_type: 7, redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'] }));
    expect(invalid.status).toBe(400);
    expect(invalid.body['error']).toBe('invalid_client_metadata');
    expect((await read())['application_type']).toBe('native');

    // RFC 7592 §2.2: what the update omits is removed; without a type the 2025 policy applies again.
    const untyped = await put(metadata({ redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'] }));
    expect(untyped.status, JSON.stringify(untyped.body)).toBe(200);
    expect(untyped.body).not.toHaveProperty('application_type');
    expect(await read()).not.toHaveProperty('application_type');
  });

  it('accepts a 2025 client PUTting back the very document GET returned', async () => {
    const created = await register(metadata({ redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback', CLIENT_REDIRECT] }));
    const uri = String(created.body['registration_client_uri']);
    const auth = { authorization: `Bearer ${String(created.body['registration_access_token'])}` };
    const document = (await (await fetch(uri, { headers: auth })).json()) as Record<string, unknown>;
    const res = await fetch(uri, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(document) });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.json()) as Record<string, unknown>).not.toHaveProperty('application_type');
  });
});

describe('Client ID Metadata Documents with application_type', () => {
  const ID = 'https://client.example/mcp-client.json';
  const parse = (doc: Record<string, unknown>) => parseCimdDocument({ client_id: ID, client_name: 'doc client', ...doc }, ID);

  it('keeps the stated type and applies the same redirect URI rule as registration', () => {
    expect(parse({ application_type: 'native', redirect_uris: NATIVE_CALLBACKS }).applicationType).toBe('native');
    expect(parse({ application_type: 'web', redirect_uris: WEB_CALLBACKS }).applicationType).toBe('web');
    expect(() => parse({ application_type: 'web', redirect_uris: [WEB_CALLBACKS[0], 'cursor://anysphere.cursor-mcp/oauth/callback'] })).toThrow(
      /^redirect_uris\.1: .*application_type "web"/,
    );
    expect(() => parse({ application_type: 'native', redirect_uris: ['https://localhost/callback'] })).toThrow(/application_type "native"/);
  });

  it('refuses a document whose application_type is neither web nor native', () => {
    for (const value of ['desktop', 3, ['web'], 'x'.repeat(10_000)]) {
      expect(() => parse({ application_type: value, redirect_uris: [CLIENT_REDIRECT] })).toThrow(DocumentProblem);
      expect(() => parse({ application_type: value, redirect_uris: [CLIENT_REDIRECT] })).toThrow(/^application_type: must be "web" or "native"/);
    }
  });

  it('accepts a document without application_type as before (Claude Code publishes none)', () => {
    const client = parse({ redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback', 'cursor://anysphere.cursor-mcp/oauth/callback'] });
    expect(client).not.toHaveProperty('applicationType');
  });

  it('shows an error page, never a redirect, for a fetched document whose redirect URIs contradict its type', async () => {
    const clientId = `${docsBase}/web-with-scheme.json`;
    documents.set('/web-with-scheme.json', { client_id: clientId, client_name: 'Bad web', application_type: 'web', redirect_uris: ['cursor://x/cb'] });
    const res = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: 'cursor://x/cb',
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
        resource: echo,
      }),
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('application_type');
  });

  it('signs in a native document client at its loopback redirect, with iss', async () => {
    const clientId = `${docsBase}/native.json`;
    documents.set('/native.json', { client_id: clientId, client_name: 'Native doc', application_type: 'native', redirect_uris: ['http://127.0.0.1/callback'] });
    const redirect = 'http://127.0.0.1:40111/callback';
    const result = await loginAndConsent(
      h,
      {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirect,
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
        resource: echo,
        state: 'doc',
      },
      new TestBrowser(redirect),
    );
    expect(result.redirectedTo?.searchParams.get('code'), result.page?.body.slice(0, 300)).toBeTruthy();
    expect(result.redirectedTo?.searchParams.get('iss')).toBe(h.urls.issuer);
  });
});

describe('RFC 9207: iss on every authorization response', () => {
  let client: { client_id: string } & Record<string, unknown>;
  beforeAll(async () => {
    client = await registerClient(h, { application_type: 'native' });
  });

  function params(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: newPkce().challenge,
      code_challenge_method: 'S256',
      resource: echo,
      state: 'st-2026',
      ...overrides,
    };
  }

  /** The authorization response the client receives: one `iss`, exactly the issuer, with state. */
  function expectAuthorizationResponse(to: URL | undefined, redirect: string, issuer: string): URL {
    expect(to, 'the browser did not reach the client').toBeDefined();
    expect(to!.href.startsWith(redirect)).toBe(true);
    expect(to!.searchParams.getAll('iss')).toEqual([issuer]);
    expect(to!.searchParams.get('state')).toBe('st-2026');
    return to!;
  }

  async function redirectOf(query: Record<string, string | undefined>): Promise<URL> {
    const res = await fetch(authorizeUrl(h, query), { redirect: 'manual' });
    expect(res.status, await res.clone().text()).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  it('carries iss on every error /authorize itself redirects: response type, PKCE, resource, scope', async () => {
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ response_type: undefined }, 'unsupported_response_type'],
      [{ code_challenge: undefined }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge: 'not-a-sha256' }, 'invalid_request'],
      [{ resource: `${h.urls.issuer}/nope/mcp` }, 'invalid_target'],
      [{ resource: undefined }, 'invalid_target'],
      [{ scope: 'no-such-scope' }, 'invalid_scope'],
    ];
    for (const [overrides, error] of cases) {
      const to = expectAuthorizationResponse(await redirectOf(params(overrides)), CLIENT_REDIRECT, h.urls.issuer);
      expect(to.searchParams.get('error'), JSON.stringify(overrides)).toBe(error);
      expect(to.searchParams.get('error_description')).toBeTruthy();
      expect(to.searchParams.get('code')).toBeNull();
    }
  });

  it('carries iss when the user denies consent', async () => {
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const first = await browser.open(authorizeUrl(h, params()));
    expect(first.page?.body).toContain('name="decision"');
    const denied = await browser.submitForm(first.page!, { decision: 'deny' });
    expect(expectAuthorizationResponse(denied.redirectedTo, CLIENT_REDIRECT, h.urls.issuer).searchParams.get('error')).toBe('access_denied');
  });

  it('carries iss when the user is not allowed or cancels at GitHub', async () => {
    for (const user of ['mallory', null]) {
      h.github.setCurrentUser(user);
      try {
        const result = await loginAndConsent(h, params());
        expect(expectAuthorizationResponse(result.redirectedTo, CLIENT_REDIRECT, h.urls.issuer).searchParams.get('error')).toBe('access_denied');
      } finally {
        h.github.setCurrentUser('alice');
      }
    }
  });

  it('carries iss when the client is deleted during the login', async () => {
    const doomed = await registerClient(h, { application_type: 'native' });
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const atCallback = await browser.open(authorizeUrl(h, params({ client_id: doomed.client_id })), { stopAt: h.urls.callback });
    expect(atCallback.redirectedTo?.href.startsWith(h.urls.callback)).toBe(true);
    const removed = await fetch(String(doomed['registration_client_uri']), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(doomed['registration_access_token'])}` },
    });
    expect(removed.status).toBe(204);
    const result = await browser.open(atCallback.redirectedTo!.href);
    const to = expectAuthorizationResponse(result.redirectedTo, CLIENT_REDIRECT, h.urls.issuer);
    expect(to.searchParams.get('error')).toBe('access_denied');
  });

  it('carries iss on the code and on a private-use scheme redirect', async () => {
    const result = await loginAndConsent(h, params());
    expect(expectAuthorizationResponse(result.redirectedTo, CLIENT_REDIRECT, h.urls.issuer).searchParams.get('code')).toBeTruthy();
    const cursor = 'cursor://anysphere.cursor-mcp/oauth/callback';
    const native = await registerClient(h, { application_type: 'native', redirect_uris: [cursor] });
    const to = await redirectOf(params({ client_id: native.client_id, redirect_uri: cursor, code_challenge_method: 'plain' }));
    expect(expectAuthorizationResponse(to, cursor, h.urls.issuer).searchParams.get('error')).toBe('invalid_request');
  });

  it('replaces an iss parameter the registered redirect URI carries itself', async () => {
    const redirect = 'https://app.example.com/cb?iss=https%3A%2F%2Fevil.example&tenant=7';
    const web = await registerClient(h, { application_type: 'web', redirect_uris: [redirect] });
    const to = await redirectOf(params({ client_id: web.client_id, redirect_uri: redirect, response_type: 'token' }));
    expect(to.origin + to.pathname).toBe('https://app.example.com/cb');
    expect(to.searchParams.getAll('iss')).toEqual([h.urls.issuer]);
    expect(to.searchParams.get('tenant')).toBe('7');
  });

  it('carries iss with temporarily_unavailable when GitHub cannot be reached', async () => {
    const closedPort = await freePort();
    // GitHub's token endpoint refuses the connection (nothing listens on closedPort); the rest of GitHub answers.
    const refusingTokenEndpoint: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      return fetch(url.includes('/login/oauth/access_token') ? `http://127.0.0.1:${closedPort}/login/oauth/access_token` : input, init);
    };
    const down = await startGatewayHarness(
      {},
      {
        upstream: async (config) =>
          createGitHubLogin(
            createGitHubUpstream({
              baseUrl: config.provider.type === 'github' ? config.provider.url.href : '',
              clientId: 'test-client-id',
              clientSecret: 'test-client-secret',
              scope: DEFAULT_GITHUB_SCOPE,
              fetch: refusingTokenEndpoint,
              timeoutMs: 2_000,
            }),
            gatewayUrls(config).callback,
          ),
      },
    );
    try {
      const downClient = await registerClient(down);
      const result = await loginAndConsent(down, { ...params({ client_id: downClient.client_id }), resource: down.urls.resourceFor('echo') });
      const to = expectAuthorizationResponse(result.redirectedTo, CLIENT_REDIRECT, down.urls.issuer);
      expect(to.searchParams.get('error')).toBe('temporarily_unavailable');
    } finally {
      await down.close();
    }
  });
});

describe('discovery documents for 2026 and 2025 clients', () => {
  async function json(url: string): Promise<Record<string, unknown>> {
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  it('serves one RFC 8414 document at oauth-authorization-server and openid-configuration, with the exact issuer', async () => {
    const oauth = await json(`${h.urls.issuer}/.well-known/oauth-authorization-server`);
    const openid = await json(`${h.urls.issuer}/.well-known/openid-configuration`);
    expect(openid).toEqual(oauth);
    // RFC 8414 §3.3: the issuer is exactly the URL the document was fetched under, without a trailing slash.
    expect(oauth['issuer']).toBe(h.urls.issuer);
    expect(oauth['issuer']).toBe(`http://127.0.0.1:${new URL(h.urls.issuer).port}`);
    expect(oauth).toMatchObject({
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
      registration_endpoint: h.urls.registrationEndpoint,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['tools:read'],
    });
    for (const member of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'jwks_uri']) {
      expect(String(oauth[member]).startsWith(`${h.urls.issuer}/`), member).toBe(true);
    }
  });

  it('still registers clients at the advertised registration_endpoint (CIMD preferred, DCR served)', async () => {
    const oauth = await json(`${h.urls.issuer}/.well-known/oauth-authorization-server`);
    const res = await fetch(String(oauth['registration_endpoint']), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(metadata({ application_type: 'native', redirect_uris: [CLIENT_REDIRECT] })),
    });
    expect(res.status).toBe(201);
  });

  it('serves RFC 9728 documents that name this issuer for every server', async () => {
    for (const name of h.urls.serverNames) {
      const prm = await json(h.urls.protectedResourceMetadataFor(name));
      expect(prm['resource']).toBe(h.urls.resourceFor(name));
      expect(prm['authorization_servers']).toEqual([h.urls.issuer]);
    }
    expect((await json(h.urls.protectedResourceMetadataFor('echo')))['scopes_supported']).toEqual(['tools:read']);
  });
});
