import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type OidcAccount } from 'oidc-provider';
import { TestBrowser, type BrowserPage, type BrowserResult } from './test-browser.js';

/**
 * A real OpenID provider for tests: panva's `oidc-provider` (certified OpenID Connect), on
 * 127.0.0.1 with an ephemeral port, in memory. Users log in through its development login and
 * consent pages, which `login()` fills in headlessly with the same fetch + cookies a browser
 * would use. It prints a few "development-only" warnings (and, on Node 20, "Unsupported
 * runtime": it targets Node 22 LTS but runs here): expected, harmless in tests.
 */

export interface OidcTestAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  name?: string;
}

export interface OidcTestClient {
  client_id: string;
  /** Omit for a public client (token endpoint auth `none`). */
  client_secret?: string;
  redirect_uris: string[];
  /** Defaults to client_secret_basic with a secret, none without. */
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'none';
}

export interface OidcProviderOptions {
  clients: OidcTestClient[];
  accounts: OidcTestAccount[];
  /**
   * oidc-provider "conforms" id_token claims by default: for the code flow the id_token carries
   * only `sub` (and protocol claims) and profile/email come from userinfo. True puts them in the
   * id_token, as Google, Keycloak or Auth0 do.
   */
  claimsInIdToken?: boolean;
}

export interface TestOidcProvider {
  /** e.g. http://127.0.0.1:PORT; its discovery document is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** Plays the user: opens `authorizeUrl`, logs in as `account` (a `sub`), consents; resolves to the redirect back with `code`. */
  login(authorizeUrl: string, account: string): Promise<URL>;
  /** Every request received, in order (method, path with query, headers). */
  requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

export async function startOidcProvider({ clients, accounts, claimsInIdToken = false }: OidcProviderOptions): Promise<TestOidcProvider> {
  const byId = new Map(accounts.map((a) => [a.sub, a]));
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `test-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };

  const provider = new Provider(issuer, {
    clients: clients.map(({ client_id, client_secret, redirect_uris, token_endpoint_auth_method }) => ({
      client_id,
      ...(client_secret === undefined ? {} : { client_secret }),
      redirect_uris,
      token_endpoint_auth_method: token_endpoint_auth_method ?? (client_secret === undefined ? 'none' : 'client_secret_basic'),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })),
    async findAccount(_ctx: unknown, id: string): Promise<OidcAccount | undefined> {
      const account = byId.get(id);
      return account && { accountId: id, claims: () => ({ ...account }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    conformIdTokenClaims: !claimsInIdToken,
    // oidc-provider already allows only S256; this makes PKCE mandatory for confidential clients too (OAuth 2.1).
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    jwks: { keys: [signingKey] },
    // Fixed lifetimes (seconds) also keep oidc-provider from printing a notice per default it uses.
    ttl: { AuthorizationCode: 60, AccessToken: 3600, IdToken: 3600, RefreshToken: 86_400, Interaction: 600, Session: 3600, Grant: 3600 },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
  });
  const requests: TestOidcProvider['requests'] = [];
  const handle = provider.callback();
  server.on('request', (req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: { ...req.headers } });
    handle(req, res);
  });

  return {
    issuer,
    requests,
    async login(authorizeUrl, account) {
      if (!byId.has(account)) throw new TypeError(`unknown test account ${account}`);
      const redirectUri = new URL(authorizeUrl).searchParams.get('redirect_uri');
      if (!redirectUri) throw new TypeError('authorizeUrl has no redirect_uri');
      const browser = new TestBrowser(redirectUri);
      let result: BrowserResult = await browser.open(authorizeUrl);
      // Login page, then consent page; a third page would be an error page.
      for (let step = 0; step < 3; step++) {
        if (result.redirectedTo) return result.redirectedTo;
        const page = result.page;
        if (page?.status !== 200) throw new Error(`OpenID provider answered ${page?.status}: ${page?.body.slice(0, 500)}`);
        result = await submitProviderForm(browser, page, { login: account, password: 'any' });
      }
      throw new Error(`login did not come back to ${redirectUri}: ${result.hops.join(' -> ')}`);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Submits oidc-provider's login or consent form: its hidden fields, plus `credentials` when it asks for them. */
async function submitProviderForm(browser: TestBrowser, page: BrowserPage, credentials: { login: string; password: string }): Promise<BrowserResult> {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(page.body);
  const action = form && /\baction="([^"]+)"/i.exec(form[1] ?? '')?.[1];
  if (!form || !action) throw new Error(`no form on ${page.url}: ${page.body.slice(0, 500)}`);
  const fields: Record<string, string> = {};
  for (const input of (form[2] ?? '').matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(input[0])?.[1] ?? '';
    if (name === undefined) continue;
    if (name === 'login') fields[name] = credentials.login;
    else if (name === 'password') fields[name] = credentials.password;
    else fields[name] = decodeHtml(value);
  }
  return browser.open(new URL(decodeHtml(action), page.url).href, { method: 'POST', form: fields });
}

function decodeHtml(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return named[ref.toLowerCase()] ?? whole;
    return String.fromCodePoint(ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1)));
  });
}
