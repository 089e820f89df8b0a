/**
 * Remote servers with their own OAuth as a Docker deployment runs them: the auth runtime (its
 * own process, the vault in Redis), the remote server's bridge (its own process, which cannot
 * reach auth) and the built-in router's runtime, with the OAuth-protected upstream of
 * test/upstream-oauth-server/ and the GitHub stand-in. The user's upstream token goes from
 * /verify to the bridge through the router only; an upstream refusal reaches the vault through
 * the router's next /verify.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStoredKey } from '../runtime/auth/tokens/signing-keys.js';
import { parseConfig } from '../runtime/config/load-config.js';
import type { RunningRuntime } from '../runtime/entrypoints/http-runtime.js';
import { startRouterRuntime } from '../runtime/entrypoints/router-runtime.js';
import { silentLogger } from '../runtime/logger.js';
import { startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';
import { makeTempDir, removeTempDir } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { startRedis } from './helpers/redis-server.js';
import { RuntimeProcess } from './helpers/runtime-process.js';
import { approveConsent, TestOAuthProvider } from './helpers/sdk-oauth-provider.js';
import { startProtectedUpstream, type ProtectedUpstream } from './upstream-oauth-server/protected-mcp-upstream.js';
import { mcpInitialize } from './helpers/oauth-flow.js';
import { TestBrowser } from './helpers/test-browser.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';
const redis = await startRedis();
if ('skip' in redis) console.warn(`skipping the remote OAuth runtime tests: ${redis.skip}`);

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as Array<{ type: string; text: string }>)[0]!.text;
}

('skip' in redis ? describe.skip : describe)('a remote server with its own OAuth across the auth, bridge and router runtimes', () => {
  let upstream: ProtectedUpstream;
  let github: GitHubStandIn;
  let dir: string;
  let auth: RuntimeProcess;
  let authEnv: Record<string, string>;
  let bridge: RuntimeProcess;
  let router: RunningRuntime;
  let publicUrl: string;
  let client: Client;
  let token: string;
  const endpoint = (): URL => new URL(`${publicUrl}/remote/mcp`);

  /** The gateway's whole flow as alice (alice-up upstream, through its consent): the provider holding the gateway's tokens. */
  async function authorize(): Promise<TestOAuthProvider> {
    upstream.setCurrentUser('alice-up');
    const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
    const first = new Client({ name: 'remote-oauth', version: '1.0.0' });
    await expect(first.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    await new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }).finishAuth(provider.code());
    return provider;
  }

  beforeAll(async () => {
    upstream = await startProtectedUpstream({ users: ['alice-up'] });
    github = await startGitHubStandIn();
    dir = await makeTempDir('mcpgw-remote-oauth-');
    await mkdir(join(dir, 'logs'));
    const ports = { auth: await freePort(), bridge: await freePort(), router: await freePort() };
    publicUrl = `http://127.0.0.1:${ports.router}`;
    const config = {
      version: 1,
      publicUrl,
      provider: { type: 'github', clientId: 'test-client-id', url: github.url },
      allowedUsers: ['alice'],
      store: { type: 'redis', url: (redis as { url: string }).url, keyPrefix: `mcpgw-remote-oauth-${randomBytes(4).toString('hex')}:` },
      deploy: { router: 'builtin' },
      servers: { remote: { url: upstream.mcpUrl, oauth: true } },
    };
    const configPath = join(dir, 'mcp-gateway.yaml');
    await writeFile(configPath, stringify(config));
    authEnv = {
      MCPGW_CONFIG: configPath,
      MCPGW_LISTEN: `127.0.0.1:${ports.auth}`,
      MCPGW_SIGNING_KEYS: JSON.stringify({ version: 1, keys: [await generateStoredKey()] }),
      MCPGW_STATE_KEY: randomBytes(32).toString('base64url'),
      MCPGW_GITHUB_CLIENT_SECRET: 'test-client-secret',
      MCPGW_LOG_DIR: join(dir, 'logs'),
    };
    auth = new RuntimeProcess(['auth'], authEnv);
    // The bridge gets no secret at all: the user's token comes with each request.
    bridge = new RuntimeProcess(['bridge', 'remote'], { MCPGW_CONFIG: configPath, MCPGW_LISTEN: `127.0.0.1:${ports.bridge}` });
    await Promise.all([auth.waitHealthy(`http://127.0.0.1:${ports.auth}/health`), bridge.waitHealthy(`http://127.0.0.1:${ports.bridge}/health`)]);
    router = await startRouterRuntime(
      {
        config: parseConfig(config, 'test'),
        authUrl: `http://127.0.0.1:${ports.auth}`,
        bridgeUrl: `http://127.0.0.1:${ports.bridge}`,
        logger: silentLogger(),
        sessionKey: randomBytes(32),
        resolveReplicas: () => async () => [`127.0.0.1:${ports.bridge}`],
      },
      { host: '127.0.0.1', port: ports.router },
    );
  }, 60_000);

  afterAll(async () => {
    await client?.close().catch(() => {});
    await router?.close();
    await Promise.all([auth, bridge].map((p) => p?.stop('SIGKILL')));
    await github?.close();
    await upstream?.close();
    if (dir) await removeTempDir(dir);
    if ('stop' in redis) await redis.stop();
  });

  it("connects through one flow and calls the upstream's tools with the user's own token, which only the bridge sees", async () => {
    const provider = await authorize();
    token = provider.tokens()!.access_token;
    client = new Client({ name: 'remote-oauth', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }));
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-up');
    for (const request of upstream.mcpRequests) expect(request.authorization ?? '').not.toContain(token);
    // No process logged a token of either side.
    const logs = auth.stdout + auth.stderr + bridge.stdout + bridge.stderr;
    expect(logs).not.toContain(token);
    for (const issued of upstream.issuedAccessTokens) expect(logs).not.toContain(issued.jti);
  }, 60_000);

  it('tells the vault at once when the upstream refuses the token: the next request is answered by the gateway, not sent upstream', async () => {
    await upstream.revokeGrants('alice-up');
    upstream.expireAccessTokens('alice-up');
    const post = () => mcpInitialize(endpoint().href, token, { 'mcp-protocol-version': '2025-06-18' });
    const refused = await post();
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain(`resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/remote/mcp"`);
    // The router's mark is for it alone.
    expect(refused.headers.get('mcp-gateway-upstream-rejected')).toBeNull();
    await refused.text();
    // The report goes to auth right after the answer; the vault's refresh there fails (the grant was revoked) and it forgets the grant.
    // /verify's own challenge ("holds no valid authorization"), not the proxy relaying the upstream's refusal again.
    await expect
      .poll(
        async () => {
          const res = await post();
          await res.text();
          return `${res.status} ${res.headers.get('www-authenticate') ?? ''}`;
        },
        { timeout: 10_000, interval: 250 },
      )
      .toMatch(/^401 .*the gateway holds no valid authorization of yours there/);
    const sent = upstream.mcpRequests.length;
    const again = await post();
    await again.text();
    expect(again.status).toBe(401);
    // Answered by the gateway: nothing more reached the upstream.
    expect(upstream.mcpRequests.length).toBe(sent);
    expect(upstream.tokenRequests.some((request) => request.grantType === 'refresh_token' && request.error === 'invalid_grant')).toBe(true);
  }, 60_000);

  it('asks a client that supports URL mode to open the connect page (-32042), reports the refusal on it too, and works again after the page', async () => {
    const provider = await authorize();
    const linked = new Client({ name: 'url-mode', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
    await linked.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }));
    expect(textOf(await linked.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-up');
    await upstream.revokeGrants('alice-up');
    upstream.expireAccessTokens('alice-up');
    const whoami = () => linked.callTool({ name: 'whoami', arguments: {} }).catch((err: unknown) => err);
    const refused = await whoami();
    expect(refused).toBeInstanceOf(UrlElicitationRequiredError);
    const [elicitation] = (refused as UrlElicitationRequiredError).elicitations;
    expect(elicitation).toMatchObject({ mode: 'url', url: `${publicUrl}/upstream/connect/remote` });
    // The -32042 was marked like a 401: the router reported the refused token, the vault's refresh
    // failed and it forgot the grant, so calls are answered without the upstream.
    await expect
      .poll(
        async () => {
          const seen = upstream.mcpRequests.length;
          expect(await whoami()).toBeInstanceOf(UrlElicitationRequiredError);
          return upstream.mcpRequests.length - seen;
        },
        { timeout: 10_000, interval: 250 },
      )
      .toBe(0);
    // The page, through the router to auth: the gateway's login, the upstream's consent, back.
    const opened = await new TestBrowser('http://127.0.0.1:1/never').open(elicitation!.url);
    expect(opened.page?.status, opened.page?.body.slice(0, 300)).toBe(200);
    expect(opened.page?.body).toContain('is connected for alice');
    expect(textOf(await linked.callTool({ name: 'whoami', arguments: {} }))).toBe('alice-up');
    await linked.close();
  }, 60_000);

  it("behind Traefik (MCPGW_UPSTREAM_REFUSALS=unreported) a refresh of the gateway's token proves the upstream grant, and is refused once it is gone", async () => {
    const provider = await authorize();
    const clientId = provider.clientInformation()!.client_id;
    // A second auth replica on the same Redis, as compose with router: traefik runs it (nobody reports refusals to it).
    const port = await freePort();
    const behindTraefik = new RuntimeProcess(['auth'], { ...authEnv, MCPGW_LISTEN: `127.0.0.1:${port}`, MCPGW_UPSTREAM_REFUSALS: 'unreported' });
    try {
      await behindTraefik.waitHealthy(`http://127.0.0.1:${port}/health`);
      const refresh = async (refreshToken: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, string> };
      };
      // While the grant holds, the refresh refreshes the upstream token too.
      const upstreamRefreshes = upstream.tokenRequestCount('refresh_token');
      const fine = await refresh(provider.tokens()!.refresh_token!);
      expect(fine.status).toBe(200);
      expect(upstream.tokenRequestCount('refresh_token')).toBe(upstreamRefreshes + 1);
      // The upstream ends the grant; nothing told the vault. The next refresh asks the upstream, which refuses: invalid_grant.
      await upstream.revokeGrants('alice-up');
      upstream.expireAccessTokens('alice-up');
      const refused = await refresh(fine.body['refresh_token']!);
      expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(refused.body['error_description']).toContain('remote');
      expect(upstream.tokenRequests.at(-1)).toMatchObject({ grantType: 'refresh_token', error: 'invalid_grant' });
    } finally {
      await behindTraefik.stop('SIGKILL');
    }
    // A value that is neither: the runtime does not start, and says why.
    const wrong = new RuntimeProcess(['auth'], { ...authEnv, MCPGW_LISTEN: `127.0.0.1:${port}`, MCPGW_UPSTREAM_REFUSALS: 'sometimes' });
    await expect(wrong.waitHealthy(`http://127.0.0.1:${port}/health`, 5_000)).rejects.toThrow(/MCPGW_UPSTREAM_REFUSALS must be reported or unreported/);
    await wrong.stop('SIGKILL');
    // On Redis without the state key, replicas would seal upstream tokens each with its own random key: refused at start.
    const { MCPGW_STATE_KEY: _stateKey, ...withoutStateKey } = authEnv;
    const keyless = new RuntimeProcess(['auth'], { ...withoutStateKey, MCPGW_LISTEN: `127.0.0.1:${port}` });
    await expect(keyless.waitHealthy(`http://127.0.0.1:${port}/health`, 5_000)).rejects.toThrow(/MCPGW_STATE_KEY is not set, and with store: redis/);
    await keyless.stop('SIGKILL');
  }, 60_000);

  it("translates 2026-07-28 calls for a 2025-only upstream with the user's token, and a refusal reaches the vault through the router", async () => {
    const provider = await authorize();
    const gatewayToken = provider.tokens()!.access_token;
    const modern = async () => {
      const res = await fetch(endpoint(), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${gatewayToken}`,
          'content-type': 'application/json',
          accept: 'application/json',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'whoami',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: {
            name: 'whoami',
            arguments: {},
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': {},
              'io.modelcontextprotocol/clientInfo': { name: 'modern', version: '1' },
            },
          },
        }),
      });
      return {
        status: res.status,
        text: await res.text(),
        challenge: res.headers.get('www-authenticate'),
        mark: res.headers.get('mcp-gateway-upstream-rejected'),
      };
    };
    const first = await modern();
    expect(first.status, first.text).toBe(200);
    expect(first.text).toContain('alice-up');
    await upstream.revokeGrants('alice-up');
    upstream.expireAccessTokens('alice-up');
    // The session the translation kept is refused; the next one is refused at its initialize, marked,
    // so the router reports it and the vault forgets the grant: then /verify's own challenge.
    await expect
      .poll(
        async () => {
          const next = await modern();
          expect(next.mark).toBeNull();
          return `${next.status} ${next.challenge ?? ''}`;
        },
        { timeout: 10_000, interval: 250 },
      )
      .toMatch(/^401 .*the gateway holds no valid authorization of yours there/);
  }, 60_000);
});
