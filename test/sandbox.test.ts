import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeSandbox } from '../runtime/bridge/sandbox/sandbox-probe.js';
import { freePort } from './helpers/free-port.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { descendantPids, isAlive } from './helpers/bridge-harness.js';
import { CliProcess } from './helpers/cli-process.js';
import { ServeProcess } from './helpers/serve-process.js';

const HOSTILE_FIXTURE = fileURLToPath(new URL('./fixtures/hostile-mcp-server.mjs', import.meta.url));
const SANDBOX_MISSING = 'bubblewrap cannot run here: install it (apt-get install -y bubblewrap) to run the sandbox tests';
const available = probeSandbox();
if (available.kind === 'none' && process.env['CI']) throw new Error(`the sandbox is required in CI: ${available.reason}`);
if (available.kind === 'none') console.warn(SANDBOX_MISSING);

interface ToolOutcome {
  ok: boolean;
  value?: unknown;
  code?: string;
}

/** A minimal Streamable HTTP client: initialize once per server, then tools/call with a token from `token issue`. */
class McpCaller {
  #sessions = new Map<string, string>();
  constructor(
    private readonly publicUrl: string,
    private readonly tokens: Map<string, string>,
  ) {}

  async #post(server: string, body: unknown, session?: string): Promise<Response> {
    return fetch(`${this.publicUrl}/${server}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.tokens.get(server)}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        ...(session ? { 'mcp-session-id': session } : {}),
      },
      body: JSON.stringify(body),
    });
  }

  async call(server: string, tool: string, args: Record<string, unknown> = {}): Promise<ToolOutcome> {
    let session = this.#sessions.get(server);
    if (session === undefined) {
      const init = await this.#post(server, {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'sandbox-test', version: '1' } },
      });
      expect(init.status, await init.clone().text()).toBe(200);
      session = init.headers.get('mcp-session-id')!;
      this.#sessions.set(server, session);
      await (await this.#post(server, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).text();
    }
    const res = await this.#post(server, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args } }, session);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const json = text.trimStart().startsWith('{') ? text : /^data: ?(.*)$/m.exec(text)![1]!;
    const message = JSON.parse(json) as { result: { content: { text: string }[] } };
    return JSON.parse(message.result.content[0]!.text) as ToolOutcome;
  }
}

describe.skipIf(available.kind === 'none')('stdio servers in serve run sandboxed', () => {
  let dir: string;
  let grantsDir: string;
  let serve: ServeProcess;
  let caller: McpCaller;
  let publicUrl: string;
  let gatewayPort: number;
  const dataDir = (name: string): string => join(dir, '.mcp-gateway', 'servers', name);

  beforeAll(async () => {
    dir = await makeTempDir();
    grantsDir = await mkdtemp(join(tmpdir(), 'mcpgw-grants-'));
    await mkdir(join(grantsDir, 'rw'));
    await mkdir(join(grantsDir, 'ro'));
    await writeFile(join(grantsDir, 'ro', 'shared.txt'), 'shared for reading');
    await writeFile(join(grantsDir, 'outside.txt'), 'not granted');
    gatewayPort = await freePort();
    publicUrl = `http://127.0.0.1:${gatewayPort}`;
    const init = await runCli([...localInitArgs(dir, publicUrl), '--listen', `127.0.0.1:${gatewayPort}`]);
    expect(init.code, init.stderr).toBe(0);
    const configFile = join(dir, 'mcp-gateway.yaml');
    const config = parse(await readFile(configFile, 'utf8')) as { servers?: Record<string, unknown> };
    const hostile = { command: process.execPath, args: [HOSTILE_FIXTURE] };
    config.servers = {
      hostile: { ...hostile, mounts: [{ path: join(grantsDir, 'rw') }, { path: join(grantsDir, 'ro'), readOnly: true }] },
      peer: hostile,
      offline: { ...hostile, network: 'none' },
      strict: { ...hostile, sandbox: 'strict' },
    };
    await writeFile(configFile, stringify(config));
    // Another server's data: the peer's directory holds a file the hostile server must not see.
    await mkdir(dataDir('peer'), { recursive: true });
    await writeFile(join(dataDir('peer'), 'private.txt'), 'peer data');
    serve = new ServeProcess(['--dir', dir]);
    await serve.waitFor(/mcp-gateway is ready/);
    const tokens = new Map<string, string>();
    for (const name of ['hostile', 'peer', 'offline', 'strict']) {
      const issued = await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', name, '--ttl', '10m']);
      expect(issued.code, issued.stderr).toBe(0);
      tokens.set(name, issued.stdout.trim().split('\n').at(-1)!);
    }
    caller = new McpCaller(publicUrl, tokens);
  }, 60_000);

  afterAll(async () => {
    await serve?.stop();
    await removeTempDir(dir);
    await rm(grantsDir, { recursive: true, force: true });
  });

  it('cannot read the config, the secrets or the store, by absolute or relative path', async () => {
    // Something in the store first: a client registration.
    const registered = await fetch(`${publicUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'probe', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    expect(registered.status).toBe(201);
    const storeFiles = (await readdir(join(dir, '.mcp-gateway'))).filter((name) => name !== 'servers').map((name) => `.mcp-gateway/${name}`);
    expect(storeFiles.length).toBeGreaterThan(0);
    const secrets = ['mcp-gateway.yaml', '.secrets/signing-keys.json', '.secrets/admin-token', '.secrets/state-key', ...storeFiles];
    for (const file of secrets) {
      expect(existsSync(join(dir, file)), `${file} exists on the host`).toBe(true);
      expect(await caller.call('hostile', 'read_file', { path: join(dir, file) }), file).toMatchObject({ ok: false, code: 'ENOENT' });
    }
    // The working directory is the server's own data directory, two levels below the store.
    expect(await caller.call('hostile', 'read_file', { path: '../../../mcp-gateway.yaml' })).toMatchObject({ ok: false });
    expect(await caller.call('hostile', 'read_file', { path: '../../../.secrets/admin-token' })).toMatchObject({ ok: false });
  });

  it("sees an empty project directory, and not another server's data", async () => {
    const listing = await caller.call('hostile', 'list_dir', { path: dir });
    expect(listing.ok).toBe(true);
    expect(listing.value).not.toContain('mcp-gateway.yaml');
    expect(listing.value).not.toContain('.secrets');
    expect(await caller.call('hostile', 'list_dir', { path: join(dir, '.mcp-gateway', 'servers') })).toEqual({ ok: true, value: ['hostile'] });
    expect(await caller.call('hostile', 'read_file', { path: join(dataDir('peer'), 'private.txt') })).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('cannot reach the secrets through a symlink or /proc of the gateway', async () => {
    expect(await caller.call('hostile', 'symlink_read', { target: join(dir, '.secrets', 'signing-keys.json'), link: 'keys-link' })).toMatchObject({
      ok: false,
      code: 'ENOENT',
    });
    expect(await caller.call('hostile', 'symlink_read', { target: '../../../.secrets/admin-token', link: 'token-link' })).toMatchObject({
      ok: false,
      code: 'ENOENT',
    });
    const pid = serve.pid;
    for (const path of [`/proc/${pid}/environ`, `/proc/${pid}/cmdline`, `/proc/${pid}/root${dir}/.secrets/admin-token`, `/proc/${pid}/cwd/mcp-gateway.yaml`]) {
      expect(await caller.call('hostile', 'read_file', { path }), path).toMatchObject({ ok: false });
    }
    // Its own pid namespace: no process of the host is visible at all.
    const procs = await caller.call('hostile', 'list_dir', { path: '/proc' });
    expect((procs.value as string[]).filter((entry) => /^\d+$/.test(entry)).length).toBeLessThan(5);
  });

  it('cannot write the config, the secrets, or anything outside its own directory and grants', async () => {
    const before = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
    for (const path of [
      join(dir, 'mcp-gateway.yaml'),
      join(dir, '.secrets', 'admin-token'),
      join(dir, 'planted.txt'),
      join(dataDir('peer'), 'private.txt'),
      '/etc/planted',
      join(dirname(HOSTILE_FIXTURE), 'planted.mjs'),
      join(grantsDir, 'outside.txt'),
    ]) {
      expect(await caller.call('hostile', 'write_file', { path, content: 'pwned' }), path).toMatchObject({ ok: false });
    }
    expect(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'planted.txt'))).toBe(false);
    expect(existsSync(join(dirname(HOSTILE_FIXTURE), 'planted.mjs'))).toBe(false);
    expect(await readFile(join(grantsDir, 'outside.txt'), 'utf8')).toBe('not granted');
  });

  it('writes its own data directory, which is its working directory and HOME', async () => {
    expect(await caller.call('hostile', 'write_file', { path: 'notes.txt', content: 'kept' })).toEqual({ ok: true, value: 'written' });
    expect(await readFile(join(dataDir('hostile'), 'notes.txt'), 'utf8')).toBe('kept');
    const who = (await caller.call('hostile', 'whoami')).value as { cwd: string; home: string };
    expect(who.cwd).toBe(dataDir('hostile'));
    expect(who.home).toBe(dataDir('hostile'));
    // Temp files go to its own TMPDIR; the host's /tmp is read-only like the rest.
    const tmp = ((await caller.call('hostile', 'whoami')).value as { env: Record<string, string> }).env['TMPDIR']!;
    expect(tmp).toBe(join(dataDir('hostile'), '.tmp'));
    expect(await caller.call('hostile', 'write_file', { path: join(tmp, 'scratch'), content: 'x' })).toMatchObject({ ok: true });
    expect(await caller.call('hostile', 'write_file', { path: '/tmp/mcpgw-sandbox-scratch', content: 'x' })).toMatchObject({ ok: false, code: 'EROFS' });
    expect(existsSync('/tmp/mcpgw-sandbox-scratch')).toBe(false);
  });

  it('uses its granted mounts: read-write where granted, read-only where readOnly', async () => {
    expect(await caller.call('hostile', 'write_file', { path: join(grantsDir, 'rw', 'out.txt'), content: 'granted' })).toMatchObject({ ok: true });
    expect(await readFile(join(grantsDir, 'rw', 'out.txt'), 'utf8')).toBe('granted');
    expect(await caller.call('hostile', 'read_file', { path: join(grantsDir, 'ro', 'shared.txt') })).toEqual({ ok: true, value: 'shared for reading' });
    expect(await caller.call('hostile', 'write_file', { path: join(grantsDir, 'ro', 'shared.txt'), content: 'changed' })).toMatchObject({
      ok: false,
      code: 'EROFS',
    });
    // The peer has no grants: it reads them like the rest of the host (they are outside the project), and writes nothing.
    expect(await caller.call('peer', 'write_file', { path: join(grantsDir, 'rw', 'peer.txt'), content: 'x' })).toMatchObject({ ok: false, code: 'EROFS' });
    expect(existsSync(join(grantsDir, 'rw', 'peer.txt'))).toBe(false);
  });

  it("never has the gateway's secrets in its environment, argv or open file descriptors", async () => {
    const who = (await caller.call('hostile', 'whoami')).value as { env: Record<string, string>; argv: string[]; fds: string[] };
    const seen = JSON.stringify(who);
    const adminToken = (await readFile(join(dir, '.secrets', 'admin-token'), 'utf8')).trim();
    const keys = JSON.parse(await readFile(join(dir, '.secrets', 'signing-keys.json'), 'utf8')) as { keys?: { d?: string }[] } | { d?: string }[];
    const privateParts = JSON.stringify(keys).match(/"d":"([^"]+)"/g) ?? [];
    expect(adminToken.length).toBeGreaterThan(10);
    expect(seen).not.toContain(adminToken);
    for (const part of privateParts) expect(seen).not.toContain(part.slice(5, -1));
    expect(who.fds.filter((fd) => fd.includes(dir))).toEqual([]);
    expect(who.fds.every((fd) => /^(pipe:|socket:|anon_inode:|\/dev\/|\/proc\/)/.test(fd) || fd === '?')).toBe(true);
  });

  it('network: none cannot connect even to the gateway on 127.0.0.1; the default can', async () => {
    expect(await caller.call('peer', 'connect', { host: '127.0.0.1', port: gatewayPort })).toEqual({ ok: true, value: 'connected' });
    const offline = await caller.call('offline', 'connect', { host: '127.0.0.1', port: gatewayPort });
    expect(offline.ok).toBe(false);
    expect(['ENETUNREACH', 'ECONNREFUSED', 'EHOSTUNREACH']).toContain(offline.code);
  });

  it('strict reads only the system directories and its own program', async () => {
    expect(await caller.call('strict', 'read_file', { path: HOSTILE_FIXTURE })).toMatchObject({ ok: true });
    expect(await caller.call('strict', 'read_file', { path: '/etc/hostname' })).toMatchObject({ ok: true });
    const packageJson = fileURLToPath(new URL('../package.json', import.meta.url));
    expect(await caller.call('hostile', 'read_file', { path: packageJson })).toMatchObject({ ok: true });
    expect(await caller.call('strict', 'read_file', { path: packageJson })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await caller.call('strict', 'read_file', { path: join(grantsDir, 'outside.txt') })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await caller.call('strict', 'read_file', { path: join(dir, '.secrets', 'admin-token') })).toMatchObject({ ok: false, code: 'ENOENT' });
  });
});

describe('where no sandbox can be set up', () => {
  let dir: string;
  const noSandboxPath = { PATH: '/nonexistent-mcpgw-bin' };

  beforeAll(async () => {
    dir = await makeTempDir();
    const port = await freePort();
    const init = await runCli([
      'init',
      '--dir',
      dir,
      '--yes',
      '--provider',
      'local',
      '--public-url',
      `http://127.0.0.1:${port}`,
      '--allowed-users',
      'alice',
      '--listen',
      `127.0.0.1:${port}`,
    ]);
    expect(init.code, init.stderr).toBe(0);
    const add = await runCli(['add-server', 'hostile', '--dir', dir, '--command', `"${process.execPath}" "${HOSTILE_FIXTURE}"`]);
    expect(add.code, add.stderr).toBe(0);
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('serve refuses to start a stdio server, saying what is missing, how to install it and how to opt out', async () => {
    const result = await runCli(['serve', '--dir', dir], { env: noSandboxPath });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot start server hostile: bubblewrap \(bwrap\) is not installed/m);
    expect(result.stderr).toMatch(/^hint: .*apt-get install bubblewrap.*servers\.hostile\.sandbox: off \(or top-level sandbox: off\)/m);
  });

  it('serve runs it unsandboxed when the operator says sandbox: off', async () => {
    const configFile = join(dir, 'mcp-gateway.yaml');
    const original = await readFile(configFile, 'utf8');
    const config = parse(original) as { servers: Record<string, Record<string, unknown>> };
    config.servers['hostile']!['sandbox'] = 'off';
    await writeFile(configFile, stringify(config));
    const serve = new ServeProcess(['--dir', dir]);
    try {
      await serve.waitFor(/mcp-gateway is ready/);
    } finally {
      await serve.stop();
      await writeFile(configFile, original);
    }
  });

  it('the built-in demo still works', async () => {
    const demo = new CliProcess(['serve', '--demo', '--listen', '127.0.0.1:0'], { env: noSandboxPath });
    try {
      const [, url] = await demo.waitFor(/public URL (http:\/\/127\.0\.0\.1:\d+)/);
      // /health says 503 "no answer to initialize yet" while the first probe of the demo server runs (slow under load).
      await expect.poll(async () => (await fetch(`${url}/health`)).status, { timeout: 15_000, interval: 250 }).toBe(200);
    } finally {
      await demo.stop();
    }
  });
});

// Regression: a child that ignores stdin EOF outlived a kill -9ed gateway forever.
describe('a gateway that is killed leaves no MCP server behind', () => {
  it.each([['on' as const], ['off' as const]])(
    'kill -9 of serve with sandbox: %s stops a server that ignores SIGTERM and stdin EOF within 10 s',
    async (mode) => {
      if (mode === 'on' && available.kind === 'none') return;
      const dir = await makeTempDir();
      try {
        const port = await freePort();
        const publicUrl = `http://127.0.0.1:${port}`;
        expect((await runCli([...localInitArgs(dir, publicUrl), '--listen', `127.0.0.1:${port}`])).code).toBe(0);
        // A server that answers initialize, then ignores SIGTERM and the end of its input.
        const stubborn =
          "process.on('SIGTERM',()=>{});process.stdin.on('end',()=>{});require('readline').createInterface({input:process.stdin}).on('line',l=>{const m=JSON.parse(l);if(m.id!==undefined)process.stdout.write(JSON.stringify({jsonrpc:'2.0',id:m.id,result:{protocolVersion:'2025-06-18',capabilities:{},serverInfo:{name:'stubborn',version:'1'}}})+'\\n')});setInterval(()=>{},1000)";
        const configFile = join(dir, 'mcp-gateway.yaml');
        const config = parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
        config['servers'] = { stubborn: { command: process.execPath, args: ['-e', stubborn], pool: 2, sandbox: mode } };
        await writeFile(configFile, stringify(config));
        const serve = new ServeProcess(['--dir', dir]);
        await serve.waitFor(/mcp-gateway is ready/);
        // Two warm children (in sandboxes: bwrap, its init, the server), the health probe's, and the watchdog.
        await expect.poll(() => descendantPids(serve.pid).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(mode === 'on' ? 6 : 3);
        const servers = descendantPids(serve.pid);
        await serve.stop('SIGKILL');
        await expect
          .poll(() => servers.filter(isAlive).map((pid) => `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 80)}`), {
            timeout: 10_000,
            interval: 200,
          })
          .toEqual([]);
      } finally {
        await removeTempDir(dir);
      }
    },
  );
});
