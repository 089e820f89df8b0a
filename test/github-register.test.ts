import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';
import { CliProcess } from './helpers/cli-process.js';
import { STACK_FRAME, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ECHO_FIXTURE } from './helpers/gateway-harness.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';
import { ServeProcess } from './helpers/serve-process.js';
import { TestBrowser } from './helpers/test-browser.js';

const CLIENT_REDIRECT = 'http://127.0.0.1:53682/callback';
const START_URL = /(http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]+)\n/;
/** A stop prefix the browser never reaches: it follows every redirect to the last page. */
const NOWHERE = 'http://nowhere.invalid/';

let github: GitHubStandIn;
let clockOffset = 0;

beforeAll(async () => {
  // Enterprise-Server style: the web flow at the base URL, the API under /api/v3.
  github = await startGitHubStandIn({ apiPrefix: '/api/v3', now: () => Date.now() + clockOffset });
});
afterAll(async () => {
  await github?.close();
});

function mode(path: string): Promise<number> {
  return stat(path).then((s) => s.mode & 0o777);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A GitHub project without an app yet, as `init --yes` writes it now. */
async function initProject(dir: string, publicUrl: string, extra: string[] = ['--allowed-users', 'alice']): Promise<string> {
  const init = await runCli(['init', '--dir', dir, '--yes', '--provider', 'github', '--github-url', github.url, '--public-url', publicUrl, ...extra]);
  expect(init.code, init.stderr).toBe(0);
  return init.stdout;
}

function register(dir: string, extra: string[] = []): CliProcess {
  return new CliProcess(['github', 'register', '--dir', dir, '--no-open', '--timeout', '20s', ...extra]);
}

/** The SDK client through discovery, registration, the GitHub login (the new app), consent and a tool call. */
async function loginAndCallEcho(publicUrl: string): Promise<string> {
  const endpoint = new URL(`${publicUrl}/echo/mcp`);
  const provider = new TestOAuthProvider(CLIENT_REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
  const client = new Client({ name: 'register-e2e', version: '1.0.0' });
  await expect(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
  const transport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
  await transport.finishAuth(provider.code());
  await client.connect(transport);
  const result = await client.callTool({ name: 'echo', arguments: { text: 'logged in through the new app' } });
  await client.close();
  return (result.content as Array<{ text: string }>)[0]!.text;
}

async function serveAndLogin(dir: string, publicUrl: string): Promise<void> {
  const add = await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_FIXTURE}"`]);
  expect(add.code, add.stderr).toBe(0);
  const serve = new ServeProcess(['--dir', dir]);
  try {
    await serve.waitFor(/mcp-gateway is ready/);
    expect(await loginAndCallEcho(publicUrl)).toBe('logged in through the new app');
  } finally {
    await serve.stop('SIGKILL');
  }
}

describe('mcp-gateway github register (GitHub App manifest flow against the stand-in)', () => {
  let dir: string;
  let publicUrl: string;
  beforeEach(async () => {
    dir = await makeTempDir('mcpgw-register-');
    publicUrl = `http://127.0.0.1:${await freePort()}`;
  });
  afterEach(async () => {
    clockOffset = 0;
    await removeTempDir(dir);
  });

  it('creates the app for the user, stores its credentials 0600 outside the YAML, and the gateway logs users in with it', async () => {
    const initOut = await initProject(dir, publicUrl);
    expect(initOut).toContain('github register');
    expect(await exists(join(dir, '.secrets/github-client-secret'))).toBe(false);

    const proc = register(dir);
    try {
      const [, startUrl] = await proc.waitFor(START_URL);
      const browser = new TestBrowser(NOWHERE);
      const start = await browser.open(startUrl!);
      expect(start.page?.status).toBe(200);
      expect(start.page?.body).toContain('<script>');
      const done = await browser.submitForm(start.page!, {});
      expect(done.page?.status, done.page?.body).toBe(200);
      expect(done.page?.body).toContain('created');
      expect(done.hops.some((hop) => hop.startsWith(`${github.url}/settings/apps/new?state=`))).toBe(true);
      expect((await proc.exited).code, proc.stderr).toBe(0);
      // One-shot: the local server is gone.
      await expect(fetch(startUrl!)).rejects.toThrow();
    } finally {
      proc.kill();
    }

    const submitted = github.manifests.at(-1)!;
    expect(submitted.owner).toEqual({ login: 'alice', type: 'User' });
    expect(submitted.manifest).toMatchObject({
      name: 'mcp-gateway-127-0-0-1',
      url: publicUrl,
      callback_urls: [`${publicUrl}/callback`],
      public: false,
      default_permissions: {},
      request_oauth_on_install: false,
    });
    expect(submitted.manifest).not.toHaveProperty('hook_attributes');
    expect(String(submitted.manifest['redirect_url'])).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    const app = github.apps.at(-1)!;
    const yamlText = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
    expect(parse(yamlText)).toMatchObject({ provider: { type: 'github', clientId: app.clientId, url: github.url } });
    expect((await readFile(join(dir, '.secrets/github-client-secret'), 'utf8')).trim()).toBe(app.clientSecret);
    expect((await readFile(join(dir, '.secrets/github-app.pem'), 'utf8')).trim()).toBe(app.pem.trim());
    expect((await readFile(join(dir, '.secrets/github-webhook-secret'), 'utf8')).trim()).toBe(app.webhookSecret);
    for (const file of ['github-client-secret', 'github-app.pem', 'github-webhook-secret']) expect(await mode(join(dir, '.secrets', file))).toBe(0o600);
    for (const secret of [app.clientSecret, app.webhookSecret, 'PRIVATE KEY']) {
      expect(yamlText).not.toContain(secret);
      expect(proc.stdout + proc.stderr).not.toContain(secret);
    }
    expect(proc.stdout).toContain(app.clientId);

    await serveAndLogin(dir, publicUrl);
  });

  it('creates the app for an organization, asks for members: read when org rules are configured, and org members log in', async () => {
    await initProject(dir, publicUrl, ['--github-orgs', 'acme']);
    const proc = register(dir, ['--org', 'acme', '--name', 'acme-gateway']);
    try {
      const [, startUrl] = await proc.waitFor(START_URL);
      const browser = new TestBrowser(NOWHERE);
      const start = await browser.open(startUrl!);
      const done = await browser.submitForm(start.page!, {});
      expect(done.page?.status, done.page?.body).toBe(200);
      expect(done.hops.some((hop) => hop.startsWith(`${github.url}/organizations/acme/settings/apps/new?state=`))).toBe(true);
      expect((await proc.exited).code, proc.stderr).toBe(0);
    } finally {
      proc.kill();
    }
    const submitted = github.manifests.at(-1)!;
    expect(submitted.owner).toEqual({ login: 'acme', type: 'Organization' });
    expect(submitted.manifest).toMatchObject({ name: 'acme-gateway', default_permissions: { members: 'read' } });
    expect(proc.stdout).toContain(`${github.url}/apps/acme-gateway/installations/new`);
    expect(parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8'))).toMatchObject({
      provider: { clientId: github.apps.at(-1)!.clientId, orgs: ['acme'] },
    });

    await serveAndLogin(dir, publicUrl);
  });

  it('refuses a callback with a wrong state and writes nothing', async () => {
    await initProject(dir, publicUrl);
    const before = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
    const conversionsBefore = github.requests.filter((r) => r.path.includes('/app-manifests/')).length;
    const proc = register(dir);
    try {
      const [, startUrl] = await proc.waitFor(START_URL);
      const forged = await fetch(new URL('/callback?code=0123456789abcdef&state=not-the-state', startUrl!));
      expect(forged.status).toBe(400);
      await forged.text();
      const { code } = await proc.exited;
      expect(code).toBe(1);
      expect(proc.stderr).toMatch(/^error: .*wrong or missing state/m);
      expect(proc.stderr).toMatch(/^hint: /m);
      expect(proc.stderr).not.toMatch(STACK_FRAME);
    } finally {
      proc.kill();
    }
    expect(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')).toBe(before);
    expect(await exists(join(dir, '.secrets/github-client-secret'))).toBe(false);
    expect(github.requests.filter((r) => r.path.includes('/app-manifests/')).length).toBe(conversionsBefore);
  });

  it('writes nothing when GitHub refuses the conversion (the code expired after an hour)', async () => {
    await initProject(dir, publicUrl);
    const before = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
    const proc = register(dir, ['--name', 'expiring-code-app']);
    try {
      const [, startUrl] = await proc.waitFor(START_URL);
      // Stop at the local callback, so the code can age before the browser delivers it.
      const browser = new TestBrowser(new URL('/callback', startUrl!).href);
      const start = await browser.open(startUrl!);
      const back = await browser.submitForm(start.page!, {});
      expect(back.redirectedTo?.searchParams.get('code')).toBeTruthy();
      clockOffset = 61 * 60 * 1000;
      const res = await fetch(back.redirectedTo!);
      expect(res.status).toBe(502);
      expect(await res.text()).toContain('Nothing was written');
      expect((await proc.exited).code).toBe(1);
      expect(proc.stderr).toMatch(/^error: GitHub did not accept the manifest code \(HTTP 404\)/m);
      expect(proc.stderr).toMatch(/^hint: .*expires/m);
    } finally {
      proc.kill();
    }
    expect(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')).toBe(before);
    for (const file of ['github-client-secret', 'github-app.pem', 'github-webhook-secret']) expect(await exists(join(dir, '.secrets', file))).toBe(false);
  });

  it('times out cleanly: exit 1 with a hint, the port closed, nothing written', async () => {
    await initProject(dir, publicUrl);
    const proc = new CliProcess(['github', 'register', '--dir', dir, '--no-open', '--timeout', '1s']);
    try {
      const [, startUrl] = await proc.waitFor(START_URL);
      const { code } = await proc.exited;
      expect(code).toBe(1);
      expect(proc.stderr).toMatch(/^error: GitHub did not send the browser back within 1 s; nothing was saved/m);
      expect(proc.stderr).toMatch(/^hint: .*--timeout/m);
      await expect(fetch(startUrl!)).rejects.toThrow();
    } finally {
      proc.kill();
    }
    expect(parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')).provider.clientId).toBeUndefined();
    expect(await exists(join(dir, '.secrets/github-client-secret'))).toBe(false);
  });

  it('serve and render refuse to start until an app is registered, naming github register', async () => {
    await initProject(dir, publicUrl, ['--allowed-users', 'alice', '--router', 'builtin']);
    for (const command of ['serve', 'render']) {
      const result = await runCli([command, '--dir', dir]);
      expect(result.code, command).toBe(1);
      expect(result.stderr).toMatch(/^error: provider\.clientId is not set/m);
      expect(result.stderr).toContain(`hint: run \`mcp-gateway github register --dir ${dir}\``);
    }
    expect(await exists(join(dir, 'deploy'))).toBe(false);
  });
});

describe('mcp-gateway github register --manual', () => {
  let dir: string;
  const publicUrl = 'https://mcp.example.com';
  beforeEach(async () => {
    dir = await makeTempDir('mcpgw-register-manual-');
    await initProject(dir, publicUrl);
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('prints the OAuth-app form values, checks the pasted credentials with GitHub, and stores them', async () => {
    const result = await runCli(['github', 'register', '--dir', dir, '--manual', '--github-client-id', 'test-client-id'], {
      env: { MCP_GATEWAY_GITHUB_CLIENT_SECRET: 'test-client-secret' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${github.url}/settings/applications/new`);
    expect(result.stdout).toMatch(/Homepage URL +https:\/\/mcp\.example\.com\n/);
    expect(result.stdout).toMatch(/Authorization callback URL +https:\/\/mcp\.example\.com\/callback\n/);
    expect(result.stdout + result.stderr).not.toContain('test-client-secret');
    // Checked without a user: a made-up code, answered with bad_verification_code.
    const check = github.requests.filter((r) => r.path === '/login/oauth/access_token').at(-1)!;
    expect(new URLSearchParams(check.body).get('client_id')).toBe('test-client-id');

    expect(parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8'))).toMatchObject({ provider: { clientId: 'test-client-id', url: github.url } });
    expect((await readFile(join(dir, '.secrets/github-client-secret'), 'utf8')).trim()).toBe('test-client-secret');
    expect(await mode(join(dir, '.secrets/github-client-secret'))).toBe(0o600);
    expect(await exists(join(dir, '.secrets/github-app.pem'))).toBe(false);
  });

  it('refuses credentials GitHub calls incorrect with exit 1, and writes nothing', async () => {
    const before = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
    const result = await runCli([
      'github',
      'register',
      '--dir',
      dir,
      '--manual',
      '--org',
      'acme',
      '--github-client-id',
      'test-client-id',
      '--github-client-secret',
      'wrong-secret-4711',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${github.url}/organizations/acme/settings/applications/new`);
    expect(result.stderr).toMatch(/^error: GitHub refused the client credentials \(incorrect_client_credentials\)/m);
    expect(result.stderr).toMatch(/^hint: /m);
    expect(result.stderr).not.toContain('wrong-secret-4711');
    expect(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')).toBe(before);
    expect(await exists(join(dir, '.secrets/github-client-secret'))).toBe(false);
  });

  it('names the missing credentials when it cannot ask, exit 2', async () => {
    const result = await runCli(['github', 'register', '--dir', dir, '--manual']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--github-client-id');
    expect(result.stderr).toContain('--github-client-secret');
  });

  it('does not replace a configured app without --force', async () => {
    const env = { MCP_GATEWAY_GITHUB_CLIENT_SECRET: 'test-client-secret' };
    expect((await runCli(['github', 'register', '--dir', dir, '--manual', '--github-client-id', 'test-client-id'], { env })).code).toBe(0);
    const again = await runCli(['github', 'register', '--dir', dir, '--manual', '--github-client-id', 'test-client-id'], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^hint: .*--force/m);
    expect((await runCli(['github', 'register', '--dir', dir, '--manual', '--force', '--github-client-id', 'test-client-id'], { env })).code).toBe(0);
  });
});

describe('the GitHub stand-in refuses the manifests GitHub refuses', () => {
  const post = (manifest: unknown, path = '/settings/apps/new?state=s'): Promise<Response> =>
    fetch(`${github.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ manifest: typeof manifest === 'string' ? manifest : JSON.stringify(manifest) }).toString(),
      redirect: 'manual',
    });
  const valid = {
    name: 'stand-in-check',
    url: 'https://mcp.example.com',
    redirect_url: 'http://127.0.0.1:9/callback',
    callback_urls: ['https://mcp.example.com/callback'],
  };

  it.each([
    ['no url', { ...valid, url: undefined }],
    ['a webhook without its url, even inactive', { ...valid, hook_attributes: { active: false } }],
    ['events without a webhook', { ...valid, default_events: ['issues'] }],
    ['a name over 34 characters', { ...valid, name: 'x'.repeat(35) }],
    ['a misspelt parameter', { ...valid, callback_url: 'https://mcp.example.com/callback' }],
    ['a permission that is neither read nor write', { ...valid, default_permissions: { members: 'admin' } }],
    ['JSON that does not parse', '{"url":'],
  ])('refuses %s with 422 and no redirect', async (_what, manifest) => {
    const before = github.manifests.length;
    const res = await post(manifest);
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('Invalid GitHub App configuration');
    expect(github.manifests.length).toBe(before);
  });

  it('refuses an organization the signed-in user does not belong to', async () => {
    const res = await post(valid, '/organizations/globex/settings/apps/new');
    expect(res.status).toBe(404);
  });

  it('converts a code once: the second conversion is 404', async () => {
    const res = await post({ ...valid, name: 'stand-in-once' });
    expect(res.status).toBe(302);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const convert = () => fetch(`${github.url}/api/v3/app-manifests/${code}/conversions`, { method: 'POST' });
    const first = await convert();
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ name: 'stand-in-once', slug: 'stand-in-once', permissions: { metadata: 'read' } });
    expect((await convert()).status).toBe(404);
  });
});
