import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ephemeralKeySet, generateStoredKey } from '../runtime/auth/tokens/signing-keys.js';
import { createUpstreamLogin } from '../runtime/auth/upstream/create-upstream-login.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { startAuthRuntime } from '../runtime/entrypoints/auth-runtime.js';
import { checkHealth } from '../runtime/entrypoints/healthcheck.js';
import { serveRuntime } from '../runtime/entrypoints/http-runtime.js';
import { startRelayRuntime } from '../runtime/entrypoints/relay-runtime.js';
import { runtimeAddress, secretReader } from '../runtime/entrypoints/runtime-env.js';
import { silentLogger } from '../runtime/logger.js';
import { createHttpForwardAuth } from '../runtime/router/http-forward-auth.js';
import { createReverseProxy, type ReverseProxy } from '../runtime/router/reverse-proxy.js';
import { createRedisStore } from '../runtime/store/redis-store.js';
import { startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';
import { makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ECHO_FIXTURE } from './helpers/gateway-harness.js';
import { startRedis } from './helpers/redis-server.js';
import { RuntimeProcess } from './helpers/runtime-process.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';
import { isAlive } from './helpers/serve-process.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';
const redis = await startRedis();
if ('skip' in redis) console.warn(`skipping the container runtime tests: ${redis.skip}`);

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as Array<{ type: string; text: string }>)[0]!.text;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The router closed this request before its answer was complete (a client went away). */
  cutShort?: boolean;
}

/**
 * Stands in for the Docker network between the router and the bridge containers: MCPGW_BRIDGE_URL
 * is `http://127.0.0.1:PORT/{name}` here (not `http://bridge-{name}:8000`, which needs Docker's
 * DNS), so this server takes the first path segment as the bridge, records exactly what the
 * router sent, and passes the request on to that bridge process.
 */
async function startBridgeNetwork(bridgePorts: Record<string, number>) {
  const recorded: Recorded[] = [];
  const proxies = new Map<string, ReverseProxy>(
    Object.entries(bridgePorts).map(([name, port]) => [name, createReverseProxy({ name, target: `http://127.0.0.1:${port}`, logger: silentLogger() })]),
  );
  const server = createServer((req, res) => {
    const [, name, ...rest] = (req.url ?? '/').split('/');
    const record: Recorded = { method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers } };
    recorded.push(record);
    res.once('close', () => (record.cutShort = !res.writableFinished));
    const proxy = proxies.get(name ?? '');
    if (!proxy) return void res.writeHead(404).end();
    req.url = `/${rest.join('/')}`;
    void proxy.handle(req, res);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    recorded,
    close: () => {
      for (const proxy of proxies.values()) proxy.close();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/*
 * The echo bridge listens on a Unix socket behind a relay, as a `network: none` server's does in
 * Docker (relay-runtime.ts): every router test on echo (SSE, client disconnects, ForwardAuth)
 * crosses the relay too.
 */
('skip' in redis ? describe.skip : describe)('container runtimes as real processes (auth, router, two bridges one behind a relay, Redis)', () => {
  let github: GitHubStandIn;
  let dir: string;
  let logDir: string;
  let publicUrl: string;
  let ports: { router: number; auth: number; echo: number; demo: number };
  /** The echo bridge's socket; the relay listens on ports.echo. */
  let echoSocket: string;
  let network: Awaited<ReturnType<typeof startBridgeNetwork>>;
  let env: Record<string, string>;
  let authEnv: Record<string, string>;
  const processes: Record<string, RuntimeProcess> = {};
  /** What the first OAuth flow left: the client, its refresh token and a working access token. */
  let issued: { clientId: string; refreshToken: string; accessToken: string };

  const startAuth = (): RuntimeProcess => (processes['auth'] = new RuntimeProcess(['auth'], authEnv));
  const health = (port: number): string => `http://127.0.0.1:${port}/health`;

  beforeAll(async () => {
    if (!('url' in redis)) return;
    github = await startGitHubStandIn();
    dir = await makeTempDir('mcpgw-runtime-');
    // The compose file bind-mounts the project's ./logs at /logs.
    logDir = join(dir, 'logs');
    await mkdir(logDir);
    ports = { router: await freePort(), auth: await freePort(), echo: await freePort(), demo: await freePort() };
    publicUrl = `http://127.0.0.1:${ports.router}`;
    const config = {
      version: 1,
      publicUrl,
      provider: { type: 'github', clientId: 'test-client-id', url: github.url },
      allowedUsers: ['alice'],
      // A prefix of its own, so a shared REDIS_URL is left as it was found.
      store: { type: 'redis', url: redis.url, keyPrefix: `mcpgw-runtime-${randomBytes(4).toString('hex')}:` },
      deploy: { router: 'builtin' },
      servers: {
        echo: { command: process.execPath, args: [ECHO_FIXTURE], env: { FIXTURE_GREETING: 'hello' } },
        demo: { builtin: 'demo' },
      },
    };
    await writeFile(join(dir, 'mcp-gateway.yaml'), stringify(config));
    env = { MCPGW_CONFIG: join(dir, 'mcp-gateway.yaml') };
    authEnv = {
      ...env,
      MCPGW_LISTEN: `127.0.0.1:${ports.auth}`,
      MCPGW_SIGNING_KEYS: JSON.stringify({ version: 1, keys: [await generateStoredKey()] }),
      MCPGW_STATE_KEY: randomBytes(32).toString('base64url'),
      MCPGW_GITHUB_CLIENT_SECRET: 'test-client-secret',
      MCPGW_LOG_DIR: logDir,
    };
    network = await startBridgeNetwork({ echo: ports.echo, demo: ports.demo });
    echoSocket = join(dir, 'echo.sock');
    processes['echo'] = new RuntimeProcess(['bridge', 'echo'], { ...env, MCPGW_LISTEN: `unix:${echoSocket}` });
    const relay = (processes['relay'] = new RuntimeProcess(['relay'], { MCPGW_LISTEN: `127.0.0.1:${ports.echo}`, MCPGW_RELAY_SOCKET: echoSocket }));
    const demo = (processes['demo'] = new RuntimeProcess(['bridge', 'demo'], { ...env, MCPGW_LISTEN: `127.0.0.1:${ports.demo}` }));
    const auth = startAuth();
    const router = (processes['router'] = new RuntimeProcess(['router'], {
      ...env,
      MCPGW_LISTEN: `127.0.0.1:${ports.router}`,
      MCPGW_AUTH_URL: `http://127.0.0.1:${ports.auth}`,
      MCPGW_BRIDGE_URL: `${network.url}/{name}`,
    }));
    await Promise.all([
      relay.waitHealthy(health(ports.echo)),
      demo.waitHealthy(health(ports.demo)),
      auth.waitHealthy(health(ports.auth)),
      router.waitHealthy(health(ports.router)),
    ]);
  });

  afterAll(async () => {
    await Promise.all(Object.values(processes).map((p) => p.stop('SIGKILL')));
    await network?.close();
    await github?.close();
    if ('url' in redis) await redis.stop();
    if (dir) await removeTempDir(dir);
  });

  it('takes the MCP SDK client through the router: GitHub login, consent, tools on a stdio bridge and on the builtin demo', async () => {
    const connect = async (server: string) => {
      const endpoint = new URL(`${publicUrl}/${server}/mcp`);
      const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
      const client = new Client({ name: 'runtime-e2e', version: '1.0.0' });
      await expect(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
      const transport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
      await transport.finishAuth(provider.code());
      await client.connect(transport);
      return { client, provider };
    };
    const echo = await connect('echo');
    expect(textOf(await echo.client.callTool({ name: 'echo', arguments: { text: 'through three processes' } }))).toBe('through three processes');
    expect(textOf(await echo.client.callTool({ name: 'env', arguments: { name: 'FIXTURE_GREETING' } }))).toBe('hello');
    await echo.client.close();
    const demo = await connect('demo');
    expect(textOf(await demo.client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }))).toBe('5');
    await demo.client.close();

    const tokens = echo.provider.tokens()!;
    issued = { clientId: echo.provider.client!.client_id, refreshToken: tokens.refresh_token!, accessToken: tokens.access_token };
    // What reached the bridges: the identity from ForwardAuth, this hop's X-Forwarded-*, never the client's credentials.
    const toEcho = network.recorded.filter((r) => r.path.startsWith('/echo/echo/mcp'));
    expect(toEcho.length).toBeGreaterThan(2);
    for (const { headers } of toEcho) {
      expect(headers['authorization']).toBeUndefined();
      expect(headers['cookie']).toBeUndefined();
      // The subject is GitHub's account id; the login travels beside it for display.
      expect(headers['x-user-sub']).toBe('github:1001');
      expect(headers['x-user-login']).toBe('alice');
      expect(headers['x-forwarded-host']).toBe(`127.0.0.1:${ports.router}`);
      expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    }
    expect(JSON.stringify(network.recorded)).not.toContain(tokens.access_token);
  });

  it('streams SSE through the router as events happen, not buffered until the end', async () => {
    const client = new Client({ name: 'stream', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${publicUrl}/echo/mcp`), { requestInit: { headers: { authorization: `Bearer ${issued.accessToken}` } } }),
    );
    const started = Date.now();
    const progressAt: number[] = [];
    const result = await client.callTool({ name: 'slow', arguments: { steps: 3, delayMs: 300 } }, undefined, {
      onprogress: () => progressAt.push(Date.now() - started),
    });
    const doneAt = Date.now() - started;
    await client.close();
    expect(textOf(result)).toBe('done after 3 steps');
    expect(progressAt).toHaveLength(3);
    expect(doneAt - progressAt[0]!).toBeGreaterThanOrEqual(450);
  });

  it('ends the bridge-side stream when the client disconnects', async () => {
    const endpoint = `${publicUrl}/echo/mcp`;
    const auth = { authorization: `Bearer ${issued.accessToken}` };
    const init = await fetch(endpoint, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cut', version: '1' } },
      }),
    });
    const session = { ...auth, 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-06-18' };
    await init.text();
    const openStream = async () => {
      const controller = new AbortController();
      const res = await fetch(endpoint, { headers: { ...session, accept: 'text/event-stream' }, signal: controller.signal });
      return { res, controller };
    };
    const recordedBefore = network.recorded.length;
    const first = await openStream();
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    first.controller.abort();
    const gets = () => network.recorded.slice(recordedBefore).filter((r) => r.method === 'GET' && r.path.startsWith('/echo/'));
    // The bridge gets its own id back, never the sealed one the client holds (runtime/router/replicas/session-seal.ts).
    expect(gets()[0]?.headers['mcp-session-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(gets()[0]?.headers['mcp-session-id']).not.toBe(session['mcp-session-id']);
    await expect.poll(() => gets()[0]?.cutShort, { timeout: 2_000 }).toBe(true);
    // One GET stream per session: a second one is accepted only once the bridge saw the first end.
    const second = await openStream();
    expect(second.res.status).toBe(200);
    second.controller.abort();
    await fetch(endpoint, { method: 'DELETE', headers: session });
  });

  it('never lets a request reach a bridge without ForwardAuth, and a bridge refuses one without X-User-Sub', async () => {
    const before = network.recorded.length;
    const initialize = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'forger', version: '1' } },
    });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const forged = await fetch(`${publicUrl}/echo/mcp`, { method: 'POST', headers: { ...headers, 'x-user-sub': 'alice' }, body: initialize });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain(`resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/echo/mcp"`);
    const wrongAudience = await fetch(`${publicUrl}/demo/mcp`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${issued.accessToken}` },
      body: initialize,
    });
    expect(wrongAudience.status).toBe(401);
    expect(network.recorded.length).toBe(before);
    const direct = await fetch(`http://127.0.0.1:${ports.echo}/echo/mcp`, { method: 'POST', headers, body: initialize });
    expect(direct.status).toBe(401);
  });

  it('answers 503 (not 500) while auth is down, and keeps registered clients and refresh tokens across an auth restart', async () => {
    const stopped = await processes['auth']!.stop('SIGTERM');
    expect(stopped.code).toBe(0);

    const routerHealth = await fetch(health(ports.router));
    expect(routerHealth.status).toBe(503);
    const mcp = await fetch(`${publicUrl}/echo/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issued.accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(mcp.status).toBe(503);
    expect(mcp.headers.get('retry-after')).toBe('5');
    expect(((await mcp.json()) as { error: string }).error).toBe('temporarily_unavailable');
    const discovery = await fetch(`${publicUrl}/.well-known/oauth-authorization-server`);
    expect(discovery.status).toBe(502);
    await discovery.body?.cancel();

    await startAuth().waitHealthy(health(ports.auth));
    expect((await fetch(health(ports.router))).status).toBe(200);
    // The client registered and the refresh token issued before the restart live in Redis.
    const refreshed = await fetch(`${publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: issued.refreshToken, client_id: issued.clientId }).toString(),
    });
    const body = (await refreshed.json()) as { access_token?: string; refresh_token?: string; error?: string };
    expect(refreshed.status, JSON.stringify(body)).toBe(200);
    const client = new Client({ name: 'after-restart', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${publicUrl}/echo/mcp`), { requestInit: { headers: { authorization: `Bearer ${body.access_token!}` } } }),
    );
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here');
    await client.close();
    issued.accessToken = body.access_token!;

    // Both auth processes appended their JSON lines to MCPGW_LOG_DIR.
    const logged = (await readFile(join(logDir, 'auth.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { runtime?: string; event?: string });
    expect(logged.every((line) => line.runtime === 'auth')).toBe(true);
    expect(logged.filter((line) => line.event === 'runtime_listening')).toHaveLength(2);
  });

  it('healthcheck exits 0 on 200 and 1 on a closed port or a server silent for 2 s', async () => {
    const silent = createServer(() => {});
    const silentPort = await listen(silent);
    try {
      const started = Date.now();
      const [ok, closed, slow] = await Promise.all([
        runCli(['runtime', 'healthcheck', health(ports.router)]),
        runCli(['runtime', 'healthcheck', `http://127.0.0.1:${await freePort()}/health`]),
        runCli(['runtime', 'healthcheck', `http://127.0.0.1:${silentPort}/health`]),
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(closed.code).toBe(1);
      expect(closed.stderr).toContain('ECONNREFUSED');
      expect(slow.code).toBe(1);
      expect(slow.stderr).toContain('no answer within 2000 ms');
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('healthcheck --unix-socket reaches a bridge on its socket: 0 on 200, 1 on a missing or silent socket', async () => {
    const silentSocket = join(dir, 'silent.sock');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(silentSocket, resolve));
    try {
      const started = Date.now();
      const [ok, missing, slow] = await Promise.all([
        runCli(['runtime', 'healthcheck', '--unix-socket', echoSocket, 'http://localhost/health']),
        runCli(['runtime', 'healthcheck', '--unix-socket', join(dir, 'missing.sock'), 'http://localhost/health']),
        runCli(['runtime', 'healthcheck', '--unix-socket', silentSocket, 'http://localhost/health']),
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('ENOENT');
      expect(slow.code).toBe(1);
      expect(slow.stderr).toContain('no answer within 2000 ms');
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('keeps the runtime commands out of the top-level help', async () => {
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/^ {2}serve\b/m);
    expect(help.stdout).not.toMatch(/^ {2}runtime\b/m);
  });

  it('stops every runtime on SIGTERM with exit 0, letting a call in flight finish, leaving no child process behind', async () => {
    const pids: number[] = [];
    const clients: Client[] = [];
    for (let i = 0; i < 2; i++) {
      const client = new Client({ name: 'pids', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${publicUrl}/echo/mcp`), { requestInit: { headers: { authorization: `Bearer ${issued.accessToken}` } } }),
      );
      pids.push(Number(textOf(await client.callTool({ name: 'pid', arguments: {} }))));
      clients.push(client);
    }
    expect(pids.every(isAlive)).toBe(true);
    // docker stop: the router and the bridge drain, so a call already running gets its answer.
    const slow = clients[0]!.callTool({ name: 'slow', arguments: { steps: 1, delayMs: 1_500 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const results = await Promise.all(['router', 'relay', 'echo', 'demo', 'auth'].map(async (name) => [name, await processes[name]!.stop('SIGTERM')] as const));
    expect(textOf(await slow)).toBe('done after 1 steps');
    for (const [name, { code, signal }] of results) expect({ name, code, signal }).toEqual({ name, code: 0, signal: null });
    expect(pids.filter(isAlive)).toEqual([]);
  });
});

describe('container runtimes in process', () => {
  it('auth /health answers 503 while Redis is unreachable', async () => {
    const own = await startRedis({ private: true });
    if ('skip' in own) return void console.warn(`skipping: ${own.skip}`);
    const config = parseConfig(
      { publicUrl: 'http://127.0.0.1:9', provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'], store: { type: 'redis', url: own.url } },
      'test config',
    );
    const store = await createRedisStore({ url: own.url, keyPrefix: 'health:', connectTimeoutMs: 1_000 });
    const upstream = await createUpstreamLogin(config, { store, announceLoginCode: () => {} });
    const auth = await startAuthRuntime({ config, store, keys: await ephemeralKeySet(), upstream, logger: silentLogger() }, { host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${auth.address.port}/health`;
      expect((await fetch(url)).status).toBe(200);
      await own.stop();
      const down = await fetch(url);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable', reason: 'store unreachable' });
    } finally {
      await auth.close();
      await own.stop();
    }
  });

  it('ForwardAuth over HTTP answers 503 when /verify is slow or failing, and passes decisions through', async () => {
    let mode: 'hang' | 'fail' | 'deny' = 'hang';
    const auth = createServer((_req, res) => {
      if (mode === 'fail') res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
      if (mode === 'deny')
        res
          .writeHead(401, { 'www-authenticate': 'Bearer resource_metadata="x"', 'content-type': 'application/json' })
          .end('{"error":"invalid_token","error_description":"expired"}');
    });
    const port = await listen(auth);
    const forwardAuth = createHttpForwardAuth({ authUrl: `http://127.0.0.1:${port}`, logger: silentLogger(), timeoutMs: 200 });
    try {
      const request = { method: 'POST', uri: '/echo/mcp', host: 'gw.example', authorization: 'Bearer abc' };
      expect((await forwardAuth.verify(request)).status).toBe(503);
      mode = 'fail';
      expect((await forwardAuth.verify(request)).status).toBe(503);
      mode = 'deny';
      expect(await forwardAuth.verify(request)).toEqual({
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer resource_metadata="x"' },
        body: { error: 'invalid_token', error_description: 'expired' },
      });
    } finally {
      forwardAuth.close();
      auth.closeAllConnections();
      auth.close();
    }
  });

  it('relay passes bytes and half-closes through unchanged, without reading HTTP', async () => {
    const dir = await makeTempDir('mcpgw-relay-');
    const socket = join(dir, 'b.sock');
    // Not HTTP: answers only after the client's FIN, then closes its side too.
    const backend = createNetServer({ allowHalfOpen: true }, (conn) => {
      const chunks: Buffer[] = [];
      conn.on('data', (chunk: Buffer) => chunks.push(chunk));
      conn.on('end', () => conn.end(`got ${Buffer.concat(chunks).toString('latin1')}`));
    });
    await new Promise<void>((resolve) => backend.listen(socket, resolve));
    const relay = await startRelayRuntime({ socket, logger: silentLogger() }, { host: '127.0.0.1', port: 0 });
    try {
      const exchange = (payload: string) =>
        new Promise<string>((resolve, reject) => {
          const conn = connect({ host: '127.0.0.1', port: relay.address.port, allowHalfOpen: true });
          const chunks: Buffer[] = [];
          conn.on('data', (chunk: Buffer) => chunks.push(chunk));
          conn.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
          conn.on('error', reject);
          conn.end(payload);
        });
      const raw = 'POST /x HTTP/1.1\r\nExpect: 100-continue\r\n\r\nnot even \x00 valid';
      expect(await exchange(raw)).toBe(`got ${raw}`);
    } finally {
      await relay.close();
      backend.close();
      await removeTempDir(dir);
    }
  });

  it('relay closes the connection when the bridge is not listening', async () => {
    const dir = await makeTempDir('mcpgw-relay-');
    const relay = await startRelayRuntime({ socket: join(dir, 'absent.sock'), logger: silentLogger() }, { host: '127.0.0.1', port: 0 });
    try {
      const closed = await new Promise<{ data: number }>((resolve) => {
        let data = 0;
        const conn = connect({ host: '127.0.0.1', port: relay.address.port });
        conn.on('data', (chunk: Buffer) => (data += chunk.length));
        conn.on('error', () => {});
        conn.on('close', () => resolve({ data }));
        conn.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      expect(closed).toEqual({ data: 0 });
    } finally {
      await relay.close();
      await removeTempDir(dir);
    }
  });

  it('a bridge restarted after a crash listens on its socket again (the stale socket file is replaced)', async () => {
    const dir = await makeTempDir('mcpgw-socket-');
    const socket = join(dir, 'bridge.sock');
    // A process killed while listening leaves its socket file behind, as a crashed bridge does in the shared volume.
    const crashed = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await new Promise((resolve) => crashed.once('exit', resolve));
    expect((await lstat(socket)).isSocket()).toBe(true);
    const runtime = await serveRuntime(
      'bridge-x',
      (_req, res) => void res.writeHead(200).end('ok'),
      { socket },
      { logger: silentLogger(), cleanup: async () => {} },
    );
    try {
      expect(runtime.address).toEqual({ socket });
      expect(await checkHealth('http://localhost/health', { socketPath: socket })).toEqual({ healthy: true, detail: 'HTTP 200' });
    } finally {
      await runtime.close();
      await removeTempDir(dir);
    }
  });

  it('reads MCPGW_LISTEN as HOST:PORT or unix:/absolute/path', () => {
    expect(runtimeAddress({ MCPGW_LISTEN: '0.0.0.0:8000' })).toEqual({ host: '0.0.0.0', port: 8000 });
    expect(runtimeAddress({ MCPGW_LISTEN: 'unix:/run/mcpgw/sealed.sock' })).toEqual({ socket: '/run/mcpgw/sealed.sock' });
    expect(() => runtimeAddress({ MCPGW_LISTEN: 'unix:relative.sock' })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    expect(() => runtimeAddress({ MCPGW_LISTEN: `unix:/${'x'.repeat(120)}` })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
  });

  it('reads a secret from the environment first, then from the Docker secrets directory', async () => {
    const secretsDir = await makeTempDir('mcpgw-secrets-');
    try {
      await writeFile(join(secretsDir, 'mcpgw_state_key'), 'from-file\n');
      expect(await secretReader({}, secretsDir).optional('MCPGW_STATE_KEY')).toBe('from-file');
      expect(await secretReader({ MCPGW_STATE_KEY: 'from-env' }, secretsDir).optional('MCPGW_STATE_KEY')).toBe('from-env');
      expect(await secretReader({}, secretsDir).optional('MCPGW_REDIS_PASSWORD')).toBeUndefined();
      await expect(secretReader({}, secretsDir).required('MCPGW_SIGNING_KEYS', 'the token signing keys')).rejects.toMatchObject({ code: 'ERR_SECRET_MISSING' });
    } finally {
      await removeTempDir(secretsDir);
    }
  });
});
