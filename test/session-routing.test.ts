/**
 * Sessions any replica can route (issue 16), on real processes: Redis, the auth runtime, two
 * replicas of one stdio server's bridge (each its own `mcp-gateway runtime bridge` process, told
 * apart by the greeting its config gives the server), and the built-in router's runtime in this
 * process with the replicas' addresses as its resolver would find them in a swarm
 * (`tasks.bridge-NAME`) or behind a headless Service. The SDK client goes through the full
 * OAuth flow with the GitHub stand-in.
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
import { createLogger } from '../runtime/logger.js';
import { startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';
import { makeTempDir, removeTempDir } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ECHO_FIXTURE } from './helpers/gateway-harness.js';
import { startRedis } from './helpers/redis-server.js';
import { RuntimeProcess } from './helpers/runtime-process.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';
const MODERN = '2026-07-28';
const redis = await startRedis();
if ('skip' in redis) console.warn(`skipping the session routing tests: ${redis.skip}`);

type Replica = 'a' | 'b' | 'c';

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as Array<{ type: string; text: string }>)[0]!.text;
}

/** Whichever replica answered, by the greeting its config gives the server. */
async function answeredBy(client: Client): Promise<string> {
  return textOf(await client.callTool({ name: 'env', arguments: { name: 'FIXTURE_GREETING' } }));
}

('skip' in redis ? describe.skip : describe)('sessions over bridge replicas behind the built-in router', () => {
  let github: GitHubStandIn;
  let dir: string;
  let publicUrl: string;
  let env: Record<string, string>;
  let router: RunningRuntime;
  const ports: Partial<Record<Replica | 'auth' | 'router', number>> = {};
  const metricsPorts: Partial<Record<Replica, number>> = {};
  const bridges: Partial<Record<Replica, RuntimeProcess>> = {};
  let auth: RuntimeProcess;
  /** The addresses the router's resolver returns now: what DNS would say of the running tasks. */
  let resolved: Replica[] = [];
  const routerLines: Array<Record<string, unknown>> = [];
  const tokens: Record<string, string> = {};

  const health = (port: number): string => `http://127.0.0.1:${port}/health`;
  const endpoint = (): URL => new URL(`${publicUrl}/echo/mcp`);

  async function startBridge(replica: Replica, drainMs = 0): Promise<void> {
    const configPath = join(dir, `bridge-${replica}.yaml`);
    const config = baseConfig();
    config.servers.echo.env = { FIXTURE_GREETING: `replica-${replica}` };
    await writeFile(configPath, stringify(config));
    ports[replica] ??= await freePort();
    metricsPorts[replica] ??= await freePort();
    const bridge = (bridges[replica] = new RuntimeProcess(['bridge', 'echo'], {
      MCPGW_CONFIG: configPath,
      MCPGW_LISTEN: `127.0.0.1:${ports[replica]}`,
      MCPGW_METRICS_LISTEN: `127.0.0.1:${metricsPorts[replica]}`,
      ...(drainMs > 0 ? { MCPGW_DRAIN_MS: String(drainMs) } : {}),
    }));
    await bridge.waitHealthy(health(ports[replica]!));
  }

  function baseConfig() {
    return {
      version: 1,
      publicUrl,
      provider: { type: 'github', clientId: 'test-client-id', url: github.url },
      allowedUsers: ['alice', 'mallory'],
      store: { type: 'redis', url: (redis as { url: string }).url, keyPrefix: `mcpgw-replicas-${randomBytes(4).toString('hex')}:` },
      deploy: { router: 'builtin' },
      servers: { echo: { command: process.execPath, args: [ECHO_FIXTURE], env: {} as Record<string, string>, replicas: 2 } },
    };
  }

  async function connect(login: string): Promise<Client> {
    github.setCurrentUser(login);
    const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
    const first = new Client({ name: 'replicas', version: '1.0.0' });
    await expect(first.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    const transport = new StreamableHTTPClientTransport(endpoint(), { authProvider: provider });
    await transport.finishAuth(provider.code());
    const client = new Client({ name: 'replicas', version: '1.0.0' });
    await client.connect(transport);
    tokens[login] = provider.tokens()!.access_token;
    return client;
  }

  /** A session of `login` on a token already issued: what a client that reconnects does. */
  async function session(login: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const transport = new StreamableHTTPClientTransport(endpoint(), { requestInit: { headers: { authorization: `Bearer ${tokens[login]}` } } });
    const client = new Client({ name: 'replicas', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport };
  }

  /** Ends a session as a client that is done does (DELETE), then closes the client. */
  async function end({ client, transport }: { client: Client; transport: StreamableHTTPClientTransport }): Promise<void> {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }

  async function raw(login: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(endpoint(), {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[login]}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  /** A 2026-07-28 tools/call: stateless, no session id. */
  function modernCall(login: string, id: number) {
    return raw(
      login,
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'env' },
      {
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: {
          name: 'env',
          arguments: { name: 'FIXTURE_GREETING' },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': { name: 'modern', version: '1' },
          },
        },
      },
    );
  }

  /** Requests the replicas' bridges counted on their MCP endpoints (their own /metrics, MCPGW_METRICS_LISTEN). */
  async function bridgeRequests(): Promise<number> {
    let sum = 0;
    for (const replica of resolved) sum += await requestsOf(replica);
    return sum;
  }

  async function requestsOf(replica: Replica): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${metricsPorts[replica]}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('http_requests_total{') && line.includes('route="mcp"'))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  }

  beforeAll(async () => {
    if (!('url' in redis)) return;
    github = await startGitHubStandIn({
      users: [
        { id: 1001, login: 'alice', name: 'Alice' },
        { id: 1002, login: 'mallory', name: 'Mallory' },
      ],
    });
    dir = await makeTempDir('mcpgw-replicas-');
    await mkdir(join(dir, 'logs'));
    ports.auth = await freePort();
    ports.router = await freePort();
    publicUrl = `http://127.0.0.1:${ports.router}`;
    const config = baseConfig();
    await writeFile(join(dir, 'mcp-gateway.yaml'), stringify(config));
    env = { MCPGW_CONFIG: join(dir, 'mcp-gateway.yaml') };
    auth = new RuntimeProcess(['auth'], {
      ...env,
      MCPGW_LISTEN: `127.0.0.1:${ports.auth}`,
      MCPGW_SIGNING_KEYS: JSON.stringify({ version: 1, keys: [await generateStoredKey()] }),
      MCPGW_STATE_KEY: randomBytes(32).toString('base64url'),
      MCPGW_GITHUB_CLIENT_SECRET: 'test-client-secret',
      MCPGW_LOG_DIR: join(dir, 'logs'),
    });
    await Promise.all([auth.waitHealthy(health(ports.auth)), startBridge('a'), startBridge('b', 4_000)]);
    resolved = ['a', 'b'];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void routerLines.push(JSON.parse(line)) } });
    router = await startRouterRuntime(
      {
        config: parseConfig(config, 'test'),
        authUrl: `http://127.0.0.1:${ports.auth}`,
        bridgeUrl: 'http://bridge-{name}:8000',
        logger,
        sessionKey: randomBytes(32),
        resolveReplicas: () => async () => resolved.map((replica) => `127.0.0.1:${ports[replica]}`),
      },
      { host: '127.0.0.1', port: ports.router },
    );
  }, 60_000);

  afterAll(async () => {
    await router?.close();
    await Promise.all([auth, ...Object.values(bridges)].map((p) => p?.stop('SIGKILL')));
    await github?.close();
    if (dir) await removeTempDir(dir);
    if ('stop' in redis) await redis.stop();
  });

  it('spreads sessions over both replicas and answers every call of a session from its owner', async () => {
    await connect('alice').then((c) => c.close());
    await connect('mallory').then((c) => c.close());
    const sessions = await Promise.all(Array.from({ length: 12 }, () => session('alice')));
    const clients = sessions.map((s) => s.client);
    const owners = await Promise.all(clients.map(answeredBy));
    expect(new Set(owners)).toEqual(new Set(['replica-a', 'replica-b']));
    // Each session, three more calls in parallel with the others: always the same replica.
    for (let round = 0; round < 3; round++) expect(await Promise.all(clients.map(answeredBy))).toEqual(owners);
    await Promise.all(sessions.map(end));
  });

  it("refuses forged, tampered, other users' and other servers' session ids with 404, without routing them", async () => {
    const own = await session('mallory');
    const mallorys = own.transport.sessionId!;
    expect(mallorys.startsWith('s1.')).toBe(true);
    const listTools = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} };
    const version = { 'mcp-protocol-version': '2025-06-18' };
    const tampered = `${mallorys.slice(0, 20)}${mallorys[20] === 'A' ? 'B' : 'A'}${mallorys.slice(21)}`;
    const forged = [
      mallorys, // another user's id, presented with alice's token
      tampered,
      `s1.${randomBytes(60).toString('base64url')}`,
      'not-a-session',
      crypto.randomUUID(), // what a bridge issues: never accepted unsealed
      `s1.${'A'.repeat(5000)}`,
      mallorys.replace('s1.', 's2.'),
    ];
    const before = await bridgeRequests();
    for (const id of forged) {
      const answer = await raw('alice', { ...version, 'mcp-session-id': id }, listTools);
      expect(answer.status, id.slice(0, 40)).toBe(404);
      expect(JSON.parse(answer.text).error.code).toBe(-32001);
    }
    // Not one reached a bridge.
    expect(await bridgeRequests()).toBe(before);
    // Mallory's own id works for mallory.
    expect((await raw('mallory', { ...version, 'mcp-session-id': mallorys }, listTools)).status).toBe(200);
    const refused = routerLines.filter((line) => line['event'] === 'session_refused');
    expect(refused.length).toBeGreaterThanOrEqual(forged.length);
    await end(own);
  });

  it('routes 2026-07-28 requests by user to one replica (rendezvous), with no session id issued', async () => {
    const alice = await Promise.all(Array.from({ length: 6 }, (_, i) => modernCall('alice', i + 1)));
    for (const answer of alice) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('mcp-session-id')).toBeNull();
    }
    const greetings = new Set(alice.map((answer) => /replica-[ab]/.exec(answer.text)?.[0]));
    expect(greetings.size).toBe(1);
  });

  it('ends only the sessions of a replica that dies; the others, new sessions and 2026 requests keep working', async () => {
    const sessions = await Promise.all(Array.from({ length: 8 }, () => session('alice')));
    const clients = sessions.map((s) => s.client);
    const owners = await Promise.all(clients.map(answeredBy));
    expect(new Set(owners)).toEqual(new Set(['replica-a', 'replica-b']));
    // The replica dies; DNS still lists it (a swarm removes a dead task's record a moment later).
    await bridges.a!.stop('SIGKILL');
    const after = await Promise.allSettled(clients.map(answeredBy));
    for (const [i, outcome] of after.entries()) {
      if (owners[i] === 'replica-b') expect(outcome).toEqual({ status: 'fulfilled', value: 'replica-b' });
      // The SDK surfaces the 404 as an error: its session is gone, as the spec says a client then re-initializes.
      else expect(outcome.status).toBe('rejected');
    }
    // New sessions land on the live replica, even while the dead one is still resolved.
    const fresh = await Promise.all(Array.from({ length: 4 }, () => session('alice')));
    expect(await Promise.all(fresh.map((s) => answeredBy(s.client)))).toEqual(['replica-b', 'replica-b', 'replica-b', 'replica-b']);
    for (let i = 0; i < 4; i++) expect((await modernCall(i % 2 === 0 ? 'alice' : 'mallory', 100 + i)).status).toBe(200);
    await Promise.all([...sessions, ...fresh].map(end));
    // The replica comes back (a new task at the same address): once its down mark lapses it takes sessions again.
    await startBridge('a');
    await expect
      .poll(
        async () => {
          const probe = await session('alice');
          const owner = await answeredBy(probe.client);
          await end(probe);
          return owner;
        },
        { timeout: 10_000, interval: 500 },
      )
      .toBe('replica-a');
  });

  it('drains a replica on SIGTERM: its sessions keep working, new sessions go elsewhere, then its sessions end', async () => {
    const sessions = await Promise.all(Array.from({ length: 6 }, () => session('alice')));
    const owners = await Promise.all(sessions.map((s) => answeredBy(s.client)));
    const onB = sessions.filter((_, i) => owners[i] === 'replica-b').map((s) => s.client);
    const sessionsOnB = sessions.filter((_, i) => owners[i] === 'replica-b');
    expect(onB.length).toBeGreaterThan(0);
    expect(onB.length).toBeLessThan(6);
    const stopped = bridges.b!.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Draining (4 s): its own sessions are served; an initialize it gets is retried on the other replica.
    expect(await Promise.all(onB.map(answeredBy))).toEqual(onB.map(() => 'replica-b'));
    const fresh = await Promise.all(Array.from({ length: 4 }, () => session('alice')));
    expect(await Promise.all(fresh.map((s) => answeredBy(s.client)))).toEqual(fresh.map(() => 'replica-a'));
    expect(await Promise.all(onB.map(answeredBy))).toEqual(onB.map(() => 'replica-b'));
    // Its sessions end (the clients DELETE them): the replica stops before its drain period is out.
    const started = Date.now();
    await Promise.all(sessionsOnB.map(end));
    await stopped;
    expect(Date.now() - started).toBeLessThan(3_500);
    await Promise.all([...sessions.filter((s) => !sessionsOnB.includes(s)), ...fresh].map(end));
  });

  it('once a replica is past its drain and stopping: its sessions get 404 (initialize again), other requests are retried elsewhere', async () => {
    // Replica c replaces b in DNS (b is still marked draining in the router).
    await startBridge('c', 1_000);
    resolved = ['a', 'c'];
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the router's 1 s view of the replicas
    const sessions = await Promise.all(Array.from({ length: 6 }, () => session('alice')));
    const owners = await Promise.all(sessions.map((s) => answeredBy(s.client)));
    const onC = sessions.filter((_, i) => owners[i] === 'replica-c');
    expect(onC.length).toBeGreaterThan(1);
    // A call still running when the drain period ends holds the replica in its shutdown (up to its grace).
    const running = onC[0]!.client.callTool({ name: 'slow', arguments: { steps: 1, delayMs: 5_000 } });
    const stopped = bridges.c!.stop('SIGTERM');
    // Past the 1 s drain, inside the shutdown the running call holds open.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    // Its other sessions: 404 with the reason, which makes a client initialize again, never a 503.
    const other = onC[1]!.transport.sessionId!;
    const answer = await raw(
      'alice',
      { 'mcp-protocol-version': '2025-06-18', 'mcp-session-id': other },
      { jsonrpc: '2.0', id: 9, method: 'tools/list', params: {} },
    );
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.text).error).toMatchObject({ code: -32001, message: expect.stringMatching(/replica is stopping/) });
    // New sessions and 2026 requests are retried on the replica that is not stopping.
    const fresh = await session('alice');
    expect(await answeredBy(fresh.client)).toBe('replica-a');
    for (let i = 0; i < 4; i++) {
      const modern = await modernCall(i % 2 === 0 ? 'alice' : 'mallory', 200 + i);
      expect(modern.status).toBe(200);
      expect(modern.text).toContain('replica-a');
    }
    expect(textOf(await running)).toBe('done after 1 steps');
    await stopped;
    await Promise.all([...sessions.filter((s) => !onC.includes(s)), fresh].map(end));
    await Promise.all(onC.map((s) => s.client.close()));
  });
});
