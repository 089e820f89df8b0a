import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminStatus } from '../runtime/auth/admin/admin-status.js';
import { NO_METRICS_NOTE, NO_SERVERS_NOTE } from '../runtime/auth/admin/admin-status.js';
import { ADMIN_PAGE_CSP } from '../runtime/auth/pages/admin-page-html.js';
import { generateStoredKey } from '../runtime/auth/tokens/signing-keys.js';
import { startAuthRuntimeFromEnv } from '../runtime/entrypoints/auth-runtime.js';
import { stringify } from 'yaml';
import { makeTempDir, removeTempDir } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { CLIENT_REDIRECT, registerClient, tokenRequest } from './helpers/oauth-flow.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';
import { TestBrowser } from './helpers/test-browser.js';
import { logRecords } from './helpers/log-records.js';

/** The system's Chromium (Debian `chromium`), never a downloaded one. */
function findChromium(): string | undefined {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(candidate)) return candidate;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

const CHROMIUM = findChromium();
if (CHROMIUM === undefined && !process.env['CI']) console.warn('skipping the admin page in Chromium: no chromium found (apt-get install -y chromium)');

/** docs/images/ with MCPGW_UPDATE_SCREENSHOTS=1 (the pictures in docs/admin.md); a temp folder otherwise, so a run changes no tracked file. */
const SCREENSHOTS =
  process.env['MCPGW_UPDATE_SCREENSHOTS'] === '1' ? fileURLToPath(new URL('../docs/images/', import.meta.url)) : join(tmpdir(), 'mcpgw-admin-screenshots/');
const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
const BIDI_NAME = 'Claude\u202Egpj.exe';
/** A tool name a client chose: a newline and what would pass for a second audit line. */
const INJECTED_TOOL = 'nope\n2030-01-01T00:00:00Z admin_login login=mallory';
const USERS = [
  { id: 1001, login: 'alice', name: 'Alice' },
  { id: 1002, login: 'mallory', name: 'Mallory' },
  { id: 1003, login: 'bob', name: 'Bob' },
];

describe.skipIf(CHROMIUM === undefined && !process.env['CI'])('the admin page in headless Chromium', () => {
  let h: GatewayHarness;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let dialogs = 0;
  let provider: TestOAuthProvider;
  let sdk: Client;
  let sdkTransport: StreamableHTTPClientTransport;

  const adminUrl = (path = '/admin/'): string => new URL(path, h.urls.issuer).href;

  beforeAll(async () => {
    if (CHROMIUM === undefined) throw new Error('Chromium is required in CI: apt-get install -y chromium');
    mkdirSync(SCREENSHOTS, { recursive: true });
    h = await startGatewayHarness({ admins: ['alice', 'bob'], allowedUsers: ['alice', 'bob'] }, { adminToken: ADMIN_TOKEN, githubUsers: USERS });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    admin = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    page = await admin.newPage();
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });

    // An MCP SDK client, logged in as alice through the GitHub stand-in, with a live session.
    const endpoint = new URL(h.urls.resourceFor('echo'));
    provider = new TestOAuthProvider(CLIENT_REDIRECT, async (b, url) => approveConsent(b, await b.open(url.href)), { client_name: 'SDK client' });
    sdk = new Client({ name: 'admin-page-test', version: '1.0.0' });
    await expect(sdk.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    sdkTransport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
    await sdkTransport.finishAuth(provider.code());
    await sdk.connect(sdkTransport);
    expect((await sdk.callTool({ name: 'echo', arguments: { text: 'hi' } })).content).toEqual([{ type: 'text', text: 'hi' }]);
    await sdk.callTool({ name: INJECTED_TOOL, arguments: {} }).catch(() => undefined);

    // Hostile client names: one dynamic registration accepts, one from a store written by an
    // older version (registration refuses bidi overrides now, the page must not trust that).
    await registerClient(h, { client_name: HOSTILE_NAME });
    const bidi = await registerClient(h, { client_name: 'bidi later' });
    const record = await h.store.get<Record<string, unknown>>(`client:${bidi.client_id}`);
    await h.store.set(`client:${bidi.client_id}`, { ...record, clientName: BIDI_NAME });
  });

  afterAll(async () => {
    await sdk?.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
  });

  it('logs an admin in through the GitHub stand-in, with a Strict, HttpOnly session cookie', async () => {
    const first = await page.goto(adminUrl());
    expect(first?.status()).toBe(200);
    await expect(page.getByRole('link', { name: 'Log in with GitHub' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}admin-login.png` });
    await page.getByRole('link', { name: 'Log in with GitHub' }).click();
    await page.waitForURL(adminUrl());
    await page.locator('#sessions').waitFor();
    const cookie = (await admin.cookies(h.urls.issuer)).find((c) => c.name === 'mcpgw-admin');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/' });
    expect(await page.locator('header').textContent()).toContain('alice');
  });

  it('sends the strict headers on every page', async () => {
    const res = await page.goto(adminUrl());
    const headers = res!.headers();
    expect(headers['content-security-policy']).toBe(ADMIN_PAGE_CSP);
    expect(ADMIN_PAGE_CSP).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/,
    );
    expect(headers).toMatchObject({ 'x-frame-options': 'DENY', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  });

  it('shows the servers with health, the live session of the SDK client, metrics and the audited login', async () => {
    await page.goto(adminUrl());
    await expect(page.locator('#servers').textContent()).resolves.toMatch(/echo\s*healthy/);
    const sessions = await page.locator('#sessions').textContent();
    expect(sessions).toContain('alice');
    expect(sessions).toContain('github:1001');
    expect(await page.locator('#metrics').textContent()).toContain('tool calls / s');
    expect(await page.locator('#audit').textContent()).toContain('admin_login');
    await page.screenshot({ path: `${SCREENSHOTS}admin-dashboard.png` });
  });

  it('renders a hostile client_name and a bidi override as text', async () => {
    await page.goto(adminUrl());
    const clients = await page.locator('#clients').textContent();
    expect(clients).toContain(HOSTILE_NAME);
    expect(clients).toContain('Claude[U+202E]gpj.exe');
    expect(await page.content()).not.toContain('\u202E');
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toBe(0);
    await page.locator('#clients').screenshot({ path: `${SCREENSHOTS}admin-clients.png` });
  });

  it('keeps a tool name with a newline in one audit row (log injection)', async () => {
    await page.goto(adminUrl('/admin/?event=tool_call'));
    const rows = page.locator('#audit tbody tr');
    const texts = await rows.allTextContents();
    expect(texts.filter((t) => t.includes('admin_login'))).toHaveLength(1);
    expect(texts.some((t) => t.includes('nope[U+000A]2030-01-01T00:00:00Z admin_login'))).toBe(true);
    expect(texts.every((t) => t.includes('tool_call'))).toBe(true);
  });

  it('ends the SDK client session: its next call gets 404', async () => {
    await page.goto(adminUrl());
    await page.locator('#sessions form button', { hasText: 'End' }).first().click();
    await page.waitForURL(/done=session-ended/);
    expect(await page.getByRole('status').textContent()).toContain('The session was ended');
    expect(await page.locator('#sessions').textContent()).toContain('No live sessions.');
    await page.screenshot({ path: `${SCREENSHOTS}admin-session-ended.png` });
    await expect(sdk.callTool({ name: 'echo', arguments: { text: 'again' } })).rejects.toMatchObject({ code: 404 });
  });

  it("revokes the SDK client's grant: its refresh fails", async () => {
    await page.goto(adminUrl());
    const grants = page.locator('#grants');
    await grants.locator('tr', { hasText: 'SDK client' }).getByRole('button', { name: 'Revoke' }).click();
    await page.waitForURL(/done=grants-revoked/);
    const refresh = await tokenRequest(h, {
      grant_type: 'refresh_token',
      refresh_token: provider.savedTokens!.refresh_token!,
      client_id: provider.client!.client_id,
      resource: h.urls.resourceFor('echo'),
    });
    expect(refresh.status).toBe(400);
    expect(refresh.body['error']).toBe('invalid_grant');
  });

  it('answers 403 to a logged-in user who is not an admin', async () => {
    const other = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    try {
      h.github.setCurrentUser('mallory');
      const p = await other.newPage();
      await p.goto(adminUrl());
      const [callback] = await Promise.all([
        p.waitForResponse((r) => new URL(r.url()).pathname === '/callback'),
        p.getByRole('link', { name: 'Log in with GitHub' }).click(),
      ]);
      expect(callback.status()).toBe(403);
      expect(await p.locator('h1').textContent()).toBe('Not an admin');
      await p.screenshot({ path: `${SCREENSHOTS}admin-forbidden.png` });
      expect((await other.cookies(h.urls.issuer)).some((c) => c.name === 'mcpgw-admin')).toBe(false);
    } finally {
      h.github.setCurrentUser('alice');
      await other.close();
    }
  });
});

/** Hostile requests, without a browser: the cookie of a real admin login, forms forged around it. */
describe('the admin page refuses forged and malformed requests', () => {
  let h: GatewayHarness;
  let alice: { cookie: string; csrf: string };
  let bob: { cookie: string; csrf: string };

  async function logIn(login: string): Promise<{ cookie: string; csrf: string }> {
    h.github.setCurrentUser(login);
    const browser = new TestBrowser('http://never.invalid/');
    const done = await browser.open(new URL('/admin/login', h.urls.issuer).href);
    expect(done.page?.status, done.page?.body).toBe(200);
    const dashboard = await browser.open(new URL('/admin/', h.urls.issuer).href);
    const csrf = /name="csrf" value="([^"]+)"/.exec(dashboard.page!.body)?.[1];
    const cookie = browser.cookieHeaderFor(new URL(h.urls.issuer).host)!;
    expect(csrf, dashboard.page!.body.slice(0, 300)).toBeTruthy();
    return { cookie: cookie.split('; ').find((c) => c.startsWith('mcpgw-admin='))!, csrf: csrf! };
  }

  function post(path: string, form: Record<string, string> | string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(new URL(path, h.urls.issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
    });
  }

  beforeAll(async () => {
    h = await startGatewayHarness({ admins: ['alice', 'bob'], allowedUsers: ['alice', 'bob'] }, { adminToken: ADMIN_TOKEN, githubUsers: USERS });
    alice = await logIn('alice');
    bob = await logIn('bob');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses a missing, a forged and another admin’s CSRF token with 403', async () => {
    const target = { server: 'echo', session: 'x'.repeat(20) };
    expect((await post('/admin/actions/end-session', target, { cookie: alice.cookie })).status).toBe(403);
    expect((await post('/admin/actions/end-session', { ...target, csrf: 'A'.repeat(43) }, { cookie: alice.cookie })).status).toBe(403);
    expect((await post('/admin/actions/end-session', { ...target, csrf: bob.csrf }, { cookie: alice.cookie })).status).toBe(403);
    // Alice's own token on her own session is accepted (and the session is unknown).
    expect((await post('/admin/actions/end-session', { ...target, csrf: alice.csrf }, { cookie: alice.cookie })).status).toBe(404);
  });

  it('refuses a form without a session (401) and one from another origin (403)', async () => {
    expect((await post('/admin/actions/remove-client', { client: 'c', csrf: alice.csrf })).status).toBe(401);
    expect(
      (await post('/admin/actions/remove-client', { client: 'c', csrf: alice.csrf }, { cookie: alice.cookie, origin: 'https://evil.example' })).status,
    ).toBe(403);
    expect(
      (await post('/admin/actions/remove-client', { client: 'c', csrf: alice.csrf }, { cookie: alice.cookie, 'sec-fetch-site': 'cross-site' })).status,
    ).toBe(403);
    // What Chromium sends under Referrer-Policy: no-referrer: Origin null, Sec-Fetch-Site same-origin.
    expect(
      (await post('/admin/actions/remove-client', { client: 'c', csrf: alice.csrf }, { cookie: alice.cookie, origin: 'null', 'sec-fetch-site': 'same-origin' }))
        .status,
    ).toBe(404);
  });

  it('answers the wrong method with 405 and Allow', async () => {
    const get = await fetch(new URL('/admin/actions/end-session', h.urls.issuer), { headers: { cookie: alice.cookie } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const put = await fetch(new URL('/admin/', h.urls.issuer), { method: 'PUT', headers: { cookie: alice.cookie } });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
  });

  it('refuses oversized, repeated-field, non-form and unparseable bodies without a 500', async () => {
    const big = await post('/admin/actions/remove-client', { csrf: alice.csrf, client: 'x'.repeat(10_000) }, { cookie: alice.cookie });
    expect(big.status).toBe(413);
    const repeated = await post('/admin/actions/remove-client', `csrf=${alice.csrf}&client=a&client=b`, { cookie: alice.cookie });
    expect(repeated.status).toBe(400);
    const json = await post('/admin/actions/remove-client', JSON.stringify({ csrf: alice.csrf }), { cookie: alice.cookie, 'content-type': 'application/json' });
    expect(json.status).toBe(415);
    const broken = await post('/admin/actions/remove-client', `csrf=${alice.csrf}&client=%E0%A4%A`, { cookie: alice.cookie });
    expect(broken.status).toBeLessThan(500);
    const many = await post('/admin/actions/remove-client', Array.from({ length: 40 }, (_, i) => `f${i}=1`).join('&'), { cookie: alice.cookie });
    expect(many.status).toBe(413);
  });

  it('answers unknown ids with 404', async () => {
    const form = (fields: Record<string, string>) => ({ csrf: alice.csrf, ...fields });
    expect((await post('/admin/actions/remove-client', form({ client: 'no-such-client' }), { cookie: alice.cookie })).status).toBe(404);
    expect((await post('/admin/actions/revoke-grants', form({ family: 'no-such-family' }), { cookie: alice.cookie })).status).toBe(404);
    expect((await post('/admin/actions/revoke-grants', form({ user: 'nobody' }), { cookie: alice.cookie })).status).toBe(404);
    expect((await post('/admin/actions/end-session', form({ server: 'nope', session: 'abc' }), { cookie: alice.cookie })).status).toBe(404);
  });

  it('logs out with a POST: the cookie no longer works', async () => {
    const carol = await logIn('bob');
    const out = await post('/admin/logout', { csrf: carol.csrf }, { cookie: carol.cookie });
    expect(out.status).toBe(303);
    const after = await fetch(new URL('/admin/', h.urls.issuer), { headers: { cookie: carol.cookie } });
    expect(await after.text()).toContain('Log in with GitHub');
  });

  it('keeps the JSON admin API for the bearer token, with GET /admin/status', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await fetch(new URL('/admin/ping', h.urls.issuer), { headers: auth })).status).toBe(200);
    expect((await fetch(new URL('/admin/clients', h.urls.issuer))).status).toBe(401);
    const res = await fetch(new URL('/admin/status', h.urls.issuer), { headers: auth });
    expect(res.status).toBe(200);
    const { status } = (await res.json()) as { status: AdminStatus };
    expect(Object.keys(status).sort()).toEqual(['clients', 'generatedAt', 'grants', 'metrics', 'metricsNote', 'servers', 'serversNote']);
    expect(status.servers?.map((s) => s.name)).toEqual(['echo', 'other']);
    expect(status.metrics).toMatchObject({ toolCalls: 0, callsPerSecond: 0, toolCallMs: { p50: null, p99: null } });
    // A bearer request to the page's path is the API's: JSON 404, not the page.
    const root = await fetch(new URL('/admin/', h.urls.issuer), { headers: auth });
    expect(root.headers.get('content-type')).toMatch(/json/);
  });
});

describe('a gateway without admins: has no admin page', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness({}, { adminToken: ADMIN_TOKEN });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 404 for every page path, and the admin API still works', async () => {
    for (const path of ['/admin/', '/admin', '/admin/login']) expect((await fetch(new URL(path, h.urls.issuer), { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(new URL('/admin/logout', h.urls.issuer), { method: 'POST' })).status).toBe(404);
    expect((await fetch(new URL('/admin/ping', h.urls.issuer), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
  });
});

describe('the auth container of a Docker deployment (no bridges in its process)', () => {
  it('logs an admin in with the one-time code and shows a note instead of sessions; /admin/status says null', async () => {
    const dir = await makeTempDir('mcpgw-admin-page-auth-');
    const port = await freePort();
    const { logger, records } = logRecords();
    const config = {
      version: 1,
      publicUrl: `http://127.0.0.1:${port}`,
      provider: { type: 'local', user: 'alice' },
      allowedUsers: ['alice'],
      admins: ['alice'],
      servers: { echo: { command: 'node', args: ['echo.mjs'] } },
    };
    await writeFile(join(dir, 'mcp-gateway.yaml'), stringify(config));
    const runtime = await startAuthRuntimeFromEnv({
      env: {
        MCPGW_CONFIG: join(dir, 'mcp-gateway.yaml'),
        MCPGW_LISTEN: `127.0.0.1:${port}`,
        MCPGW_SIGNING_KEYS: JSON.stringify({ version: 1, keys: [await generateStoredKey()] }),
        MCPGW_STATE_KEY: randomBytes(32).toString('base64url'),
        MCPGW_ADMIN_TOKEN: ADMIN_TOKEN,
      },
      logger,
      secretsDir: dir,
    });
    try {
      const base = `http://127.0.0.1:${runtime.address.port}`;
      const browser = new TestBrowser('http://never.invalid/');
      const form = await browser.open(`${base}/admin/login`);
      expect(form.page?.body).toContain('one-time code');
      const code = records.find((l) => l['event'] === 'local_login_code')?.['code'] as string | undefined;
      expect(code).toBeTruthy();
      const loggedIn = await browser.submitForm(form.page!, { code: code! });
      expect(loggedIn.page?.status).toBe(200);
      const dashboard = await browser.open(`${base}/admin/`);
      expect(dashboard.page?.body).toContain(NO_SERVERS_NOTE);
      expect(dashboard.page?.body).toContain(NO_METRICS_NOTE);
      const res = await fetch(`${base}/admin/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const { status } = (await res.json()) as { status: AdminStatus };
      expect(status).toMatchObject({ servers: null, serversNote: NO_SERVERS_NOTE, metrics: null, metricsNote: NO_METRICS_NOTE, clients: { registered: 0 } });
    } finally {
      await runtime.close();
      await removeTempDir(dir);
    }
  });
});
