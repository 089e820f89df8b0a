import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createAuthHandler } from '../runtime/auth/auth-app.js';
import { createAuthContext, type AuthContext } from '../runtime/auth/auth-context.js';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import { ephemeralKeySet, type KeySet } from '../runtime/auth/tokens/signing-keys.js';
import { createLocalLogin } from '../runtime/auth/upstream/local-login.js';
import { USER_HEADER_NAMES } from '../runtime/auth/user-headers.js';
import { isVerifyPath } from '../runtime/auth/endpoints/verify-endpoint.js';
import { createRequestVerifier } from '../runtime/auth/tokens/verify-request.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { DEFAULT_AUTH_URL } from '../runtime/entrypoints/router-runtime.js';
import { silentLogger } from '../runtime/logger.js';
import { createBuiltinRouter, type BuiltinRouterOptions } from '../runtime/router/builtin-router.js';
import type { McpEndpoint } from '../runtime/bridge/bridge.js';
import {
  AUTH_URL,
  CLIENT_CREDENTIAL_HEADERS,
  IDENTITY_HEADER_NAMES,
  MCP_CORS,
  OAUTH_CORS,
  STRIPPED_REQUEST_HEADERS,
  VERIFY_PATH,
  verifyUrl,
} from '../runtime/http/edge-contract.js';
import { createHttpForwardAuth, type HttpForwardAuth } from '../runtime/router/http-forward-auth.js';
import { createEmbeddedStore } from '../runtime/store/embedded-store.js';
import { renderSampleFiles, sampleConfig } from './helpers/deploy-fixtures.js';
import {
  traefikCorsResponseHeaders,
  traefikForwardedHeaders,
  traefikPreflight,
  type HeaderMap,
  type TraefikMiddleware,
} from './helpers/traefik-middlewares.js';
import { routeRequest, type TraefikRouter } from './helpers/traefik-rules.js';

/*
 * The edge contract (runtime/http/edge-contract.ts) is applied by two routers: Traefik, from the
 * dynamic.yml `render` writes, and the built-in router. The same requests go to both here: the
 * rendered Traefik config through a model of its middlewares (test/helpers/traefik-middlewares.ts),
 * the built-in router over real HTTP in front of a service that records what reaches it (the
 * bridge's view), with ForwardAuth in-process (`serve`) and over HTTP (the router container).
 */

interface DynamicConfig {
  http: {
    routers: Record<string, TraefikRouter>;
    middlewares: Record<string, TraefikMiddleware>;
    services: Record<string, { loadBalancer: { servers: Array<{ url: string }> } }>;
  };
}

let traefik: DynamicConfig;
let builtinCompose: { services: Record<string, { environment: Record<string, string> }> };

/** The middlewares Traefik runs for a URL, in order. */
function chainFor(url: string): TraefikMiddleware[] {
  const { host, pathname } = new URL(url);
  const match = routeRequest(traefik.http.routers, { host, path: pathname });
  if (match === undefined) throw new Error(`no Traefik router for ${url}`);
  return (match.router.middlewares ?? []).map((name) => {
    const middleware = traefik.http.middlewares[name];
    if (middleware === undefined) throw new Error(`${match.name} uses the undefined middleware ${name}`);
    return middleware;
  });
}

const TRAEFIK_MCP = 'https://mcp.example.com/time/mcp';
const TRAEFIK_OAUTH = 'https://mcp.example.com/register/client-123';

/** A header's comma-separated list as a set: HTTP names compare case-insensitively, order and spacing do not matter. */
function listOf(value: string | null | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '')
    .sort();
}

const names = (list: readonly string[]): string[] => listOf(list.join(','));

/** The CORS headers of an answer, each list as a set, for comparing two routers' answers. */
function corsOf(headers: HeaderMap | Headers): Record<string, string[]> {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]);
  return {
    origin: [get('access-control-allow-origin') ?? ''],
    methods: listOf(get('access-control-allow-methods')),
    headers: listOf(get('access-control-allow-headers')),
    maxAge: [get('access-control-max-age') ?? ''],
  };
}

beforeAll(async () => {
  const path = await renderSampleFiles(sampleConfig({ routing: 'path', router: 'traefik' }));
  traefik = parse(path.get('traefik/dynamic.yml')!) as DynamicConfig;
  const builtin = await renderSampleFiles(sampleConfig({ routing: 'path', router: 'builtin' }));
  builtinCompose = parse(builtin.get('compose.yaml')!) as typeof builtinCompose;
});

describe('the rendered Traefik config says what the edge contract says', () => {
  it('calls the auth runtime at the contract address and its /verify path', () => {
    expect(chainFor(TRAEFIK_MCP).find((m) => m.forwardAuth)?.forwardAuth?.address).toBe(verifyUrl(AUTH_URL));
    expect(traefik.http.services['auth']?.loadBalancer.servers).toEqual([{ url: AUTH_URL }]);
    // The built-in router container is pointed at the same address, and answers come from the same path.
    expect(builtinCompose.services['router']?.environment['MCPGW_AUTH_URL']).toBe(AUTH_URL);
    expect(DEFAULT_AUTH_URL).toBe(AUTH_URL);
    expect(isVerifyPath(VERIFY_PATH)).toBe(true);
    expect(isVerifyPath(`${VERIFY_PATH}?x=1`)).toBe(true);
  });

  it('copies the contract identity headers, the ones the auth runtime answers with and the HTTP ForwardAuth client copies', () => {
    const forwardAuth = chainFor(TRAEFIK_MCP).find((m) => m.forwardAuth)?.forwardAuth;
    expect(forwardAuth?.trustForwardHeader).toBe(false);
    expect(names(forwardAuth?.authResponseHeaders ?? [])).toEqual(names(IDENTITY_HEADER_NAMES));
    expect(names(USER_HEADER_NAMES)).toEqual(names(IDENTITY_HEADER_NAMES));
  });

  it('removes every stripped header of the contract before the bridge: identities in forward-auth, credentials after it', () => {
    const chain = chainFor(TRAEFIK_MCP);
    const forwardAuthAt = chain.findIndex((m) => m.forwardAuth);
    const stripAt = chain.findIndex((m) => m.headers?.customRequestHeaders);
    expect(forwardAuthAt).toBeGreaterThanOrEqual(0);
    // After forward-auth: stripping first would send /verify no token; an identity header stripped after it would be lost.
    expect(stripAt).toBeGreaterThan(forwardAuthAt);
    const stripped = chain[stripAt]!.headers!.customRequestHeaders!;
    expect(names(Object.keys(stripped))).toEqual(names(CLIENT_CREDENTIAL_HEADERS));
    expect(Object.values(stripped).every((value) => value === '')).toBe(true);
    expect(names([...Object.keys(stripped), ...(chain[forwardAuthAt]!.forwardAuth!.authResponseHeaders ?? [])])).toEqual(names(STRIPPED_REQUEST_HEADERS));
  });

  it('renders both CORS policies from the contract, the 2026-07-28 Mcp-Method and Mcp-Name included', () => {
    const [mcpCors] = chainFor(TRAEFIK_MCP);
    expect(mcpCors?.headers?.accessControlAllowHeaders).toEqual(MCP_CORS.allowHeaders);
    expect(mcpCors?.headers?.accessControlAllowHeaders).toEqual(expect.arrayContaining(['Mcp-Method', 'Mcp-Name']));
    expect(mcpCors?.headers?.accessControlExposeHeaders).toEqual(MCP_CORS.exposeHeaders);
    expect(mcpCors?.headers?.accessControlAllowMethods).toEqual(MCP_CORS.allowMethods);
    const [oauthCors] = chainFor(TRAEFIK_OAUTH);
    expect(oauthCors?.headers?.accessControlAllowMethods).toEqual(OAUTH_CORS.allowMethods);
    expect(oauthCors?.headers?.accessControlAllowHeaders).toEqual(OAUTH_CORS.allowHeaders);
  });
});

const issuer = 'http://127.0.0.1:1';
const ORIGIN = 'http://localhost:6274';
let ctx: AuthContext;
let keys: KeySet;
let authServer: Server;
let authBase: string;

beforeAll(async () => {
  const config = parseConfig(
    { publicUrl: issuer, provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'], servers: { echo: { command: 'true' } } },
    'test',
  );
  const store = await createEmbeddedStore({});
  keys = await ephemeralKeySet();
  ctx = createAuthContext({
    config,
    store,
    keys,
    logger: silentLogger(),
    upstream: createLocalLogin({ store, user: 'alice', loginUrl: `${issuer}/login/local`, announce: () => {} }),
  });
  authServer = createServer(createAuthHandler(ctx));
  await new Promise<void>((resolve) => authServer.listen(0, '127.0.0.1', resolve));
  authBase = `http://127.0.0.1:${(authServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => authServer.close(resolve));
});

async function tokenFor(login: string): Promise<string> {
  const claims = { sub: `local:${login}`, login, uid: 42, scope: 'mcp', clientId: 'c1', audience: `${issuer}/echo/mcp` };
  return (await signAccessToken(claims, { keys, issuer, ttlMs: 60_000, now: Date.now() })).token;
}

/** What Traefik's forward-auth middleware gets from the auth runtime for a client request: a GET to /verify with X-Forwarded-* and the client's headers. */
async function verifyAsTraefik(uri: string, client: HeaderMap): Promise<{ status: number; headers: HeaderMap }> {
  const res = await fetch(verifyUrl(authBase), {
    headers: { ...client, 'x-forwarded-method': 'POST', 'x-forwarded-proto': 'https', 'x-forwarded-host': new URL(issuer).host, 'x-forwarded-uri': uri },
  });
  await res.body?.cancel();
  return { status: res.status, headers: Object.fromEntries(res.headers) };
}

describe.each([{ forwardAuth: 'in-process, as in serve' as const }, { forwardAuth: 'over HTTP, as in the router container' as const }])(
  'the built-in router with ForwardAuth $forwardAuth answers as the rendered Traefik config',
  ({ forwardAuth: mode }) => {
    let router: Server;
    let base: string;
    let httpForwardAuth: HttpForwardAuth | undefined;
    let seen: IncomingMessage['headers'][] = [];

    beforeAll(async () => {
      const recorder: McpEndpoint = {
        async handle(req, res) {
          seen.push({ ...req.headers });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        },
      };
      let forwardAuth: BuiltinRouterOptions['forwardAuth'];
      if (mode === 'in-process, as in serve') {
        forwardAuth = createRequestVerifier(ctx);
      } else {
        httpForwardAuth = createHttpForwardAuth({ authUrl: authBase, logger: silentLogger() });
        forwardAuth = httpForwardAuth.verify;
      }
      const auth = createAuthHandler(ctx);
      router = createServer(
        createBuiltinRouter({
          urls: ctx.urls,
          forwardAuth,
          services: new Map([['echo', recorder]]),
          auth,
          health: (_req, res) => void res.writeHead(200).end('ok'),
          logger: silentLogger(),
        }),
      );
      await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(router.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      httpForwardAuth?.close();
      await new Promise((resolve) => router.close(resolve));
    });

    it('answers an MCP preflight of a 2026-07-28 client with the allow lists of cors-mcp', async () => {
      const requested = 'authorization, content-type, mcp-protocol-version, mcp-method, mcp-name';
      const res = await fetch(`${base}/echo/mcp`, {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': requested },
      });
      expect(res.status).toBe(204);
      const fromTraefik = traefikPreflight(chainFor(TRAEFIK_MCP), { origin: ORIGIN, method: 'POST' });
      expect(fromTraefik).toBeDefined();
      expect(corsOf(res.headers)).toEqual(corsOf(fromTraefik!));
      expect(corsOf(res.headers).headers).toEqual(expect.arrayContaining(listOf(requested)));
    });

    it('exposes the same response headers on an MCP answer (WWW-Authenticate of a 401 included)', async () => {
      const res = await fetch(`${base}/echo/mcp`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(401);
      const fromTraefik = traefikCorsResponseHeaders(chainFor(TRAEFIK_MCP), ORIGIN);
      expect(listOf(res.headers.get('access-control-expose-headers'))).toEqual(listOf(fromTraefik['access-control-expose-headers']));
      expect(listOf(res.headers.get('access-control-expose-headers'))).toContain('www-authenticate');
      expect(res.headers.get('access-control-allow-origin')).toBe(fromTraefik['access-control-allow-origin']);
    });

    it('answers an OAuth preflight (RFC 7592 PUT on /register/ID) with the allow lists of cors-oauth', async () => {
      const res = await fetch(`${base}/register/client-123`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'PUT' } });
      expect(res.status).toBe(204);
      const fromTraefik = traefikPreflight(chainFor(TRAEFIK_OAUTH), { origin: ORIGIN, method: 'PUT' });
      expect(corsOf(res.headers)).toEqual(corsOf(fromTraefik!));
    });

    it('strips the token, cookies and forged X-User-* before the bridge and copies the verified identity, as Traefik does', async () => {
      const client: HeaderMap = {
        authorization: `Bearer ${await tokenFor('alice')}`,
        cookie: 'session=secret',
        'proxy-authorization': 'Basic cm9vdDpyb290',
        'x-user-sub': 'github:1',
        'x-user-login': 'root',
        'x-user-id': '1',
        'x-user-client-id': 'evil',
        'x-user-scope': 'admin',
        'content-type': 'application/json',
      };
      seen = [];
      const res = await fetch(`${base}/echo/mcp`, { method: 'POST', headers: client, body: '{}' });
      expect(res.status).toBe(200);
      expect(seen).toHaveLength(1);
      const atBridge = seen[0]!;

      const verdict = await verifyAsTraefik('/echo/mcp', client);
      expect(verdict.status).toBe(200);
      const throughTraefik = traefikForwardedHeaders(chainFor(TRAEFIK_MCP), client, verdict.headers);

      const contract = (headers: IncomingMessage['headers'] | HeaderMap) =>
        Object.fromEntries(names(STRIPPED_REQUEST_HEADERS).map((name) => [name, headers[name]]));
      expect(contract(atBridge)).toEqual(contract(throughTraefik));
      expect(contract(atBridge)).toEqual({
        authorization: undefined,
        cookie: undefined,
        'proxy-authorization': undefined,
        'x-user-sub': 'local:alice',
        'x-user-login': 'alice',
        'x-user-id': '42',
        'x-user-client-id': 'c1',
        'x-user-scope': 'mcp',
      });
    });

    it('lets no forged identity through when the verified token has none of the optional claims', async () => {
      const token = (
        await signAccessToken(
          { sub: 'local:alice', login: 'alice', clientId: 'c1', audience: `${issuer}/echo/mcp` },
          { keys, issuer, ttlMs: 60_000, now: Date.now() },
        )
      ).token;
      const client: HeaderMap = { authorization: `Bearer ${token}`, 'x-user-id': '1', 'x-user-scope': 'admin', 'content-type': 'application/json' };
      seen = [];
      expect((await fetch(`${base}/echo/mcp`, { method: 'POST', headers: client, body: '{}' })).status).toBe(200);
      const verdict = await verifyAsTraefik('/echo/mcp', client);
      const throughTraefik = traefikForwardedHeaders(chainFor(TRAEFIK_MCP), client, verdict.headers);
      for (const name of ['x-user-id', 'x-user-scope']) {
        expect(seen[0]![name]).toBeUndefined();
        expect(throughTraefik[name]).toBeUndefined();
      }
    });
  },
);
