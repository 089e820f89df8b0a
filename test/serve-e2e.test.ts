import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';
import { makeTempDir, removeTempDir, runCli, githubInitArgs } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ECHO_FIXTURE } from './helpers/gateway-harness.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';
import { descendantPids } from './helpers/bridge-harness.js';
import { ServeProcess, isAlive } from './helpers/serve-process.js';
import { waitForHealth } from './helpers/wait-for-health.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as Array<{ type: string; text: string }>)[0]!.text;
}

describe('mcp-gateway serve with a GitHub provider (GitHub stand-in)', () => {
  let github: GitHubStandIn;
  let dir: string;
  let publicUrl: string;
  let serve: ServeProcess;

  beforeAll(async () => {
    github = await startGitHubStandIn();
    dir = await makeTempDir('mcpgw-e2e-');
    publicUrl = `http://127.0.0.1:${await freePort()}`;
    const init = await runCli(githubInitArgs(dir, publicUrl, github.url));
    expect(init.code, init.stderr).toBe(0);
    for (const name of ['echo', 'other']) {
      const add = await runCli(['add-server', name, '--dir', dir, '--command', `"${process.execPath}" "${ECHO_FIXTURE}"`, '--env', 'FIXTURE_GREETING=hello']);
      expect(add.code, add.stderr).toBe(0);
    }
    serve = new ServeProcess(['--dir', dir]);
    await serve.waitFor(/mcp-gateway is ready/);
    await waitForHealth(publicUrl);
  });
  afterAll(async () => {
    await serve?.stop('SIGKILL');
    await github?.close();
    if (dir) await removeTempDir(dir);
  });

  it('prints every endpoint on start', () => {
    expect(serve.stdout).toContain(`${publicUrl}/echo/mcp`);
    expect(serve.stdout).toContain(`${publicUrl}/other/mcp`);
    expect(serve.stdout).toContain(`${publicUrl}/health`);
  });

  it('takes the unchanged MCP SDK client through discovery, registration, GitHub login, consent and a tool call', async () => {
    const endpoint = new URL(`${publicUrl}/echo/mcp`);
    const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
    const client = new Client({ name: 'serve-e2e', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    const transport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
    await transport.finishAuth(provider.code());
    await client.connect(transport);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hello over OAuth' } }))).toBe('hello over OAuth');
    expect(textOf(await client.callTool({ name: 'env', arguments: { name: 'FIXTURE_GREETING' } }))).toBe('hello');
    await client.close();
    // The GitHub stand-in never saw the gateway's own tokens.
    const token = provider.tokens()!.access_token;
    expect(JSON.stringify(github.requests)).not.toContain(token);
  });

  it('issues a CLI token that its server accepts and another server refuses', async () => {
    const issued = await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'echo', '--ttl', '5m']);
    expect(issued.code, issued.stderr).toBe(0);
    const token = issued.stdout.trim().split('\n').at(-1)!;
    // The CLI names no GitHub account, so its tokens have a subject of their own (never `github:<id>`).
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ sub: 'cli:alice', login: 'alice' });
    const init = (server: string) =>
      fetch(`${publicUrl}/${server}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ci', version: '1' } },
        }),
      });
    const ok = await init('echo');
    expect(ok.status).toBe(200);
    const session = ok.headers.get('mcp-session-id')!;
    await ok.text();
    expect((await init('other')).status).toBe(401);
    const end = await fetch(`${publicUrl}/echo/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': session } });
    expect(end.status).toBeLessThan(300);
  });

  it('refuses to issue a token for a user off the allowlist or an unknown server', async () => {
    const user = await runCli(['token', 'issue', '--dir', dir, '--user', 'mallory', '--server', 'echo']);
    expect(user.code).toBe(1);
    expect(user.stderr).toMatch(/allowlist/);
    const server = await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'nope']);
    expect(server.code).toBe(1);
    expect(server.stderr).toMatch(/nope/);
  });

  // The gateway lock answers before the port would (`serve --demo` below covers a port in use).
  it('refuses a second serve of the same project in one line with a hint, exit 1', async () => {
    const second = new ServeProcess(['--dir', dir]);
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`database .*store\\.sqlite is in use by process ${serve.child.pid}`));
    expect(second.stderr).toMatch(/hint:/);
    expect(second.stderr).not.toMatch(/^\s+at /m);
  });

  it('shuts down on SIGTERM leaving no child process behind, and keeps clients across a restart', async () => {
    const token = (await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'echo'])).stdout.trim().split('\n').at(-1)!;
    for (let i = 0; i < 3; i++) {
      const client = new Client({ name: 'pids', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${publicUrl}/echo/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'up' } }))).toBe('up');
    }
    // Host pids: a sandboxed server sees only its own pid namespace (its `pid` tool says 2).
    const pids = descendantPids(serve.pid);
    // Each session is a sandbox (bwrap, its init, the server) at least.
    expect(pids.length).toBeGreaterThanOrEqual(3);
    expect(pids.every(isAlive)).toBe(true);
    const registered = await fetch(`${publicUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
    });
    const clientId = ((await registered.json()) as { client_id: string }).client_id;

    const { code } = await serve.stop('SIGTERM');
    expect(code).toBe(0);
    expect(serve.stdout).toContain('mcp-gateway stopped');
    // The orphan watchdog (one of them) ends as soon as it reads that serve is gone.
    await expect.poll(() => pids.filter(isAlive), { timeout: 5_000, interval: 100 }).toEqual([]);

    // The embedded store survives the restart: the registered client is still known.
    serve = new ServeProcess(['--dir', dir]);
    await serve.waitFor(/mcp-gateway is ready/);
    const authorize = new URL(`${publicUrl}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: `${publicUrl}/echo/mcp`,
    }).toString();
    const res = await fetch(authorize, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toContain(github.url);
  });
});

describe('mcp-gateway serve --demo', () => {
  it('works with no config and no network: local one-time-code login, the demo server, clean exit on SIGINT', async () => {
    const demo = new ServeProcess(['--demo', '--listen', '127.0.0.1:0']);
    try {
      const [, url] = await demo.waitFor(/public URL (http:\/\/127\.0\.0\.1:\d+)/);
      const endpoint = new URL(`${url}/demo/mcp`);
      const provider = new TestOAuthProvider(REDIRECT, async (browser, loginUrl) => {
        const mark = demo.stdout.length;
        const form = await browser.open(loginUrl.href);
        const [, code] = await demo.waitFor(/one-time code ([A-Z0-9]{4}-[A-Z0-9]{4})/, { from: mark });
        const loggedIn = await browser.submitForm(form.page!, { code: code! });
        return approveConsent(browser, loggedIn);
      });
      const client = new Client({ name: 'demo-e2e', version: '1.0.0' });
      await expect(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
      const transport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
      await transport.finishAuth(provider.code());
      await client.connect(transport);
      expect(textOf(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }))).toBe('5');
      await client.close();
    } finally {
      const { code } = await demo.stop('SIGINT');
      expect(code).toBe(0);
    }
  });

  it('refuses to listen beyond loopback', async () => {
    const result = await runCli(['serve', '--demo', '--listen', '0.0.0.0:0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/loopback/);
  });

  it('reports a port in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(['serve', '--demo', '--listen', `127.0.0.1:${port}`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`127.0.0.1:${port} is already in use`);
    } finally {
      blocker.close();
    }
  });
});
