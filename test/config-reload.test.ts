import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { planReload } from '../runtime/reload/reload-plan.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { ECHO_SERVER } from './helpers/bridge-harness.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli, githubInitArgs } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ServeProcess } from './helpers/serve-process.js';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json', 'mcp-protocol-version': '2025-06-18' };
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'reload', version: '1' } },
});

describe('a running serve takes over config changes without a restart', () => {
  let dir: string;
  let publicUrl: string;
  let serve: ServeProcess;
  const tokens = new Map<string, string>();
  const echo = `"${process.execPath}" "${ECHO_SERVER}"`;

  const token = async (server: string): Promise<string> => {
    if (!tokens.has(server)) {
      const issued = await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', server]);
      expect(issued.code, issued.stderr).toBe(0);
      tokens.set(server, issued.stdout.trim().split('\n').at(-1)!);
    }
    return tokens.get(server)!;
  };
  const post = async (server: string, body: string, session?: string): Promise<Response> =>
    fetch(`${publicUrl}/${server}/mcp`, {
      method: 'POST',
      headers: { ...HEADERS, authorization: `Bearer ${await token(server)}`, ...(session ? { 'mcp-session-id': session } : {}) },
      body,
    });
  const callEcho = async (server: string, session: string, text: string): Promise<Response> =>
    post(server, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text } } }), session);
  /** Admitted (the router let it through: 400, no session) or refused (401), without opening a session. */
  const admission = async (server: string): Promise<number> => (await post(server, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }))).status;
  const editConfig = async (change: (config: Record<string, unknown>) => void): Promise<void> => {
    const file = join(dir, 'mcp-gateway.yaml');
    const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    change(config);
    await writeFile(file, stringify(config));
  };

  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-reload-');
    publicUrl = `http://127.0.0.1:${await freePort()}`;
    // A GitHub provider: its allowlist can change freely (the local provider's user must stay on it). Nobody logs in here.
    const init = await runCli(githubInitArgs(dir, publicUrl, 'http://127.0.0.1:9'));
    expect(init.code, init.stderr).toBe(0);
    expect((await runCli(['add-server', 'a', '--dir', dir, '--command', echo])).code).toBe(0);
    serve = new ServeProcess(['--dir', dir]);
    await serve.waitFor(/mcp-gateway is ready/);
  }, 30_000);
  afterAll(async () => {
    await serve?.stop();
    await removeTempDir(dir);
  });

  it('serves servers added meanwhile (10 at once) and stops removed ones, leaving the other sessions alone', async () => {
    const init = await post('a', INITIALIZE);
    expect(init.status).toBe(200);
    const session = init.headers.get('mcp-session-id')!;

    const added = await Promise.all(Array.from({ length: 10 }, (_, i) => runCli(['add-server', `n${i}`, '--dir', dir, '--command', echo])));
    for (const result of added) expect(result.code, result.stderr).toBe(0);
    for (let i = 0; i < 10; i++) {
      await expect.poll(async () => (await post(`n${i}`, INITIALIZE)).status, { timeout: 10_000, interval: 200 }).toBe(200);
    }
    // The session opened before the changes still answers.
    expect((await callEcho('a', session, 'still here')).status).toBe(200);

    expect((await runCli(['remove-server', 'n3', '--dir', dir])).code).toBe(0);
    await expect.poll(async () => (await post('n3', INITIALIZE)).status, { timeout: 10_000, interval: 200 }).toBe(404);
    expect((await callEcho('a', session, 'and still')).status).toBe(200);
    expect(serve.stdout).toMatch(/config reloaded \(file changed\): .*removed n3/);
  }, 120_000);

  it('applies an allowlist change to the next request, with no restart', async () => {
    expect(await admission('a')).toBe(400);
    await editConfig((config) => {
      config['allowedUsers'] = ['bob'];
    });
    await expect.poll(() => admission('a'), { timeout: 10_000, interval: 200 }).toBe(401);
    await editConfig((config) => {
      config['allowedUsers'] = ['alice'];
    });
    await expect.poll(() => admission('a'), { timeout: 10_000, interval: 200 }).toBe(400);
  }, 30_000);

  it('refuses an invalid config or one that needs a restart, and keeps serving the old one', async () => {
    const file = join(dir, 'mcp-gateway.yaml');
    const good = await readFile(file, 'utf8');
    const mark = serve.stdout.length;
    await writeFile(file, `${good}\nservers: [this is: not valid\n`);
    await serve.waitFor(/config not reloaded \(file changed\): .*not valid YAML/, { from: mark });
    expect(await admission('a')).toBe(400);
    await writeFile(file, good.replace(publicUrl, 'http://127.0.0.1:1'));
    await serve.waitFor(/config not reloaded \(file changed\): publicUrl changed, which a running gateway cannot take over \(restart mcp-gateway serve/, {
      from: mark,
    });
    expect(await admission('a')).toBe(400);
    await writeFile(file, good);
    await serve.waitFor(/config reloaded \(file changed\): nothing to change/, { from: mark });
  }, 30_000);

  it('mcp-gateway reload signals the running serve, which reloads on SIGUSR2', async () => {
    const mark = serve.stdout.length;
    const result = await runCli(['reload', '--dir', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Sent SIGUSR2 to mcp-gateway serve (pid ${serve.pid})`);
    await serve.waitFor(/config reloaded \(SIGUSR2\): nothing to change/, { from: mark });
  }, 30_000);

  it('mcp-gateway reload refuses an invalid config before signalling, and says when no serve runs', async () => {
    const file = join(dir, 'mcp-gateway.yaml');
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.replace(/^publicUrl: .*$/m, 'publicUrl: 42'));
    const bad = await runCli(['reload', '--dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*is invalid/m);
    await writeFile(file, good);
    const other = await makeTempDir('mcpgw-reload-none-');
    try {
      expect((await runCli(localInitArgs(other, 'http://127.0.0.1:8080'))).code).toBe(0);
      const none = await runCli(['reload', '--dir', other]);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/^error: no mcp-gateway serve is running for /m);
      expect(none.stderr).toMatch(/^hint: start it: mcp-gateway serve/m);
    } finally {
      await removeTempDir(other);
    }
  });
});

describe('what a reload may change', () => {
  const base = {
    publicUrl: 'http://127.0.0.1:8080',
    provider: { type: 'github', clientId: 'x', orgs: ['acme'] },
    allowedUsers: ['alice'],
    servers: { a: { command: 'a' }, b: { command: 'b' } },
  };
  const config = (overrides: Record<string, unknown> = {}) => parseConfig({ ...base, ...overrides }, 'test');

  it('sorts servers into added, removed and changed, and flags the allowlist', () => {
    const plan = planReload(config(), config({ allowedUsers: ['alice', 'bob'], servers: { a: { command: 'a' }, b: { command: 'b2' }, c: { command: 'c' } } }));
    expect(plan).toEqual({ needsRestart: [], added: ['c'], removed: [], changed: ['b'], allowlistChanged: true });
    expect(planReload(config(), config({ servers: { b: { command: 'b' } } }))).toMatchObject({ removed: ['a'], changed: [] });
  });

  it('takes org and team changes live, but not a new login shape, address, store or token lifetimes', () => {
    expect(planReload(config(), config({ provider: { type: 'github', clientId: 'x', orgs: ['acme', 'other'] } }))).toMatchObject({
      needsRestart: [],
      allowlistChanged: true,
    });
    expect(planReload(config(), config({ provider: { type: 'github', clientId: 'x' } })).needsRestart).toEqual(['provider']);
    expect(planReload(config(), config({ provider: { type: 'github', clientId: 'y', orgs: ['acme'] } })).needsRestart).toEqual(['provider']);
    expect(planReload(config(), config({ publicUrl: 'http://127.0.0.1:9090', tokens: { accessTokenTtl: '1h' } })).needsRestart).toEqual([
      'publicUrl',
      'tokens',
    ]);
  });

  it('replaces every server when origins or the sandbox change', () => {
    expect(planReload(config(), config({ sandbox: 'strict' })).changed).toEqual(['a', 'b']);
  });
});
