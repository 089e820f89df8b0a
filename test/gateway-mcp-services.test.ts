import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editConfig } from '../runtime/config/edit-config.js';
import { withProjectLock } from '../runtime/config/project-lock.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { ECHO_SERVER, childProcesses, descendantPids, isAlive } from './helpers/bridge-harness.js';
import { freePort } from './helpers/free-port.js';
import { startLocalGateway, type LocalGateway } from './helpers/local-gateway.js';
import { ServeProcess } from './helpers/serve-process.js';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});

function initialize(url: string, token: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: INITIALIZE,
  });
}

describe('stdio servers in the gateway: Origin, limits and pool from the config, /health', () => {
  let gw: LocalGateway;
  beforeAll(async () => {
    gw = await startLocalGateway({
      allowedOrigins: ['https://inspector.example.com'],
      servers: {
        echo: { command: process.execPath, args: [ECHO_SERVER], limits: { maxSessionsPerUser: 1, idleTimeout: '10m' } },
        warm: { command: process.execPath, args: [ECHO_SERVER], pool: 1 },
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("serves browser requests from the public URL's origin and allowedOrigins, and refuses others with 403", async () => {
    const url = gw.urls.resourceFor('warm');
    const token = await gw.token('warm');
    const evil = await initialize(url, token, { origin: 'http://evil.example:8080' });
    expect(evil.status).toBe(403);
    for (const origin of [gw.urls.issuer, 'https://inspector.example.com']) {
      const res = await initialize(url, token, { origin });
      expect(res.status, origin).toBe(200);
      await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': res.headers.get('mcp-session-id')! } });
    }
  });

  it('applies servers.NAME.limits: a second session of the same user gets 503 with Retry-After', async () => {
    const url = gw.urls.resourceFor('echo');
    const token = await gw.token('echo');
    const first = await initialize(url, token);
    expect(first.status).toBe(200);
    const second = await initialize(url, token);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('30');
    expect((await initialize(url, await gw.token('echo', 'bob'))).status).toBe(200);
  });

  it('keeps servers.NAME.pool children ready, and /health says every server is healthy', async () => {
    await expect.poll(async () => (await gw.gateway.bridges.get('warm')!.health()).detail, { timeout: 5_000 }).toMatch(/^1 warm/);
    const res = await fetch(`${gw.urls.issuer}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', servers: { echo: { healthy: true }, warm: { healthy: true } } });
  });
});

describe('/health with a server that cannot start', () => {
  it('answers 503 naming the server and why', async () => {
    const gw = await startLocalGateway({
      servers: { ok: { command: process.execPath, args: [ECHO_SERVER] }, broken: { command: 'mcp-gateway-no-such-command' } },
    });
    try {
      // The good server's first probe may still run on a loaded machine ("no answer to initialize
      // yet"); /health is polled until it is in, then the whole answer is checked.
      let res = await fetch(`${gw.urls.issuer}/health`);
      await expect
        .poll(
          async () => {
            res = await fetch(`${gw.urls.issuer}/health`);
            return ((await res.clone().json()) as { servers: { ok: { healthy: boolean } } }).servers.ok.healthy;
          },
          { timeout: 15_000 },
        )
        .toBe(true);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        status: 'unavailable',
        servers: {
          ok: { healthy: true },
          broken: { healthy: false, detail: expect.stringMatching(/mcp-gateway-no-such-command.*(not found|No such file or directory)/) },
        },
      });
    } finally {
      await gw.close();
    }
  });
});

describe('mcp-gateway serve and SIGTERM', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-sigterm-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('stops every MCP server process (sessions and warm pool) when the gateway gets SIGTERM', async () => {
    const publicUrl = `http://127.0.0.1:${await freePort()}`;
    expect((await runCli(localInitArgs(dir, publicUrl))).code).toBe(0);
    expect((await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_SERVER}"`])).code).toBe(0);
    await withProjectLock(dir, () => editConfig(dir, (document) => document.setIn(['servers', 'echo', 'pool'], 1)));
    const token = (await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'echo'])).stdout.trim().split('\n').at(-1)!;
    const serve = new ServeProcess(['--dir', dir]);
    try {
      await serve.waitFor(/mcp-gateway is ready/);
      const url = `${publicUrl}/echo/mcp`;
      for (let i = 0; i < 3; i++) {
        const init = await initialize(url, token);
        expect(init.status).toBe(200);
      }
      // Host pids (each sandbox is bwrap with the server inside its own pid namespace): three sessions, one warm.
      // Plus the orphan watchdog.
      await expect.poll(() => childProcesses(serve.child.pid!).length).toBe(5);
      const all = descendantPids(serve.child.pid!);
      expect(all.length).toBeGreaterThanOrEqual(8);
      expect(all.every(isAlive)).toBe(true);
      expect((await serve.stop('SIGTERM')).code).toBe(0);
      // The orphan watchdog (one of them) ends as soon as it reads that serve is gone.
      await expect.poll(() => all.filter(isAlive), { timeout: 5_000, interval: 100 }).toEqual([]);
    } finally {
      await serve.stop('SIGKILL');
    }
  });
});

describe('/health and a server that never answers initialize', () => {
  it('answers within a second, then says the server did not answer within the probe timeout', async () => {
    const silent = { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] };
    const gw = await startLocalGateway({ servers: { silent, ok: { command: process.execPath, args: [ECHO_SERVER] } } });
    try {
      const timed = async (): Promise<{ ms: number; status: number; body: { servers: Record<string, { healthy: boolean; detail?: string }> } }> => {
        const started = performance.now();
        const res = await fetch(`${gw.urls.issuer}/health`);
        return { ms: performance.now() - started, status: res.status, body: (await res.json()) as never };
      };
      const first = await timed();
      expect(first.ms).toBeLessThan(1_000);
      expect(first.status).toBe(503);
      expect(first.body.servers['silent']).toMatchObject({ healthy: false, detail: expect.stringMatching(/no answer to initialize yet/) });
      await expect
        .poll(async () => (await timed()).body.servers['silent']?.detail, { timeout: 10_000, interval: 500 })
        .toMatch(/did not answer initialize within 5000 ms/);
      const later = await timed();
      expect(later.ms).toBeLessThan(1_000);
      expect(later.body.servers['ok']).toMatchObject({ healthy: true });
    } finally {
      await gw.close();
    }
  }, 30_000);
});

describe('mcp-gateway serve and SIGTERM with calls in flight', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-drain-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('lets a running call finish, answers new requests 503 with Retry-After meanwhile, then exits 0', async () => {
    const publicUrl = `http://127.0.0.1:${await freePort()}`;
    expect((await runCli(localInitArgs(dir, publicUrl))).code).toBe(0);
    expect((await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_SERVER}"`])).code).toBe(0);
    const token = (await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'echo'])).stdout.trim().split('\n').at(-1)!;
    const serve = new ServeProcess(['--dir', dir]);
    try {
      await serve.waitFor(/mcp-gateway is ready/);
      const url = `${publicUrl}/echo/mcp`;
      const init = await initialize(url, token);
      const session = init.headers.get('mcp-session-id')!;
      const headers = {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json',
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-06-18',
      };
      await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
      const slow = fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow', arguments: { steps: 1, delayMs: 2_500 } } }),
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const stopped = serve.stop('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const refused = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/list' }) });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      const answered = await slow;
      expect(answered.status).toBe(200);
      expect(JSON.stringify(await answered.json())).toContain('done after 1 steps');
      expect((await stopped).code).toBe(0);
    } finally {
      await serve.stop('SIGKILL');
    }
  }, 30_000);
});
