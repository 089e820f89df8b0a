import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { writeNewKeyFile } from '../runtime/auth/tokens/signing-keys.js';
import { projectPaths, type ProjectPaths } from '../runtime/config/project-paths.js';
import type { GatewayConfigInput } from '../runtime/config/schema.js';
import { writeSecret } from '../runtime/config/secrets.js';
import { writeConfig } from '../runtime/config/write-config.js';
import { STACK_FRAME, makeTempDir, removeTempDir, runCli, type CliResult } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { startRedis } from './helpers/redis-server.js';
import { RuntimeProcess } from './helpers/runtime-process.js';

/*
 * Issue 10: admin commands against a Docker deployment whose public URL the host could not reach
 * silently worked on a local state file the deployment never uses ("No registered clients").
 * A Docker deployment's state is in its Redis on the Docker network, reached only through its
 * auth runtime's admin API (at --url, else the public URL), so a failure there is the error.
 */

/** `.invalid` never resolves (RFC 2606), so the public URL cannot be reached from this host. */
const UNREACHABLE_PUBLIC_URL = 'https://mcp.gateway.invalid';
const ROUTER_PORT = 18_088;
const RENDER_TIMEOUT = 120_000;

const redis = await startRedis();
if ('skip' in redis) console.warn(`skipping the auth runtime tests: ${redis.skip}`);

async function makeProject(deploy: GatewayConfigInput['deploy'], publicUrl = UNREACHABLE_PUBLIC_URL): Promise<{ root: string; paths: ProjectPaths }> {
  const root = await makeTempDir('mcpgw-admin-docker-');
  const paths = projectPaths(join(root, 'gw'));
  const input: GatewayConfigInput = {
    publicUrl,
    provider: { type: 'local', user: 'alice' },
    allowedUsers: ['alice'],
    ...(deploy ? { deploy } : {}),
    servers: { docs: { url: 'https://docs.example.net/mcp' } },
  };
  await writeConfig(paths.dir, input);
  await writeNewKeyFile(paths.signingKeys);
  return { root, paths };
}

/** Every path under `dir` with its size and mtime: what an admin command must leave as it was. */
async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
  const lines: string[] = [];
  for (const entry of entries.sort()) {
    const info = await stat(join(dir, entry));
    lines.push(`${entry} ${info.isDirectory() ? 'dir' : info.size} ${info.mtimeMs}`);
  }
  return lines;
}

/** The `NAME='value'` lines render writes (cli/deploy/deploy-secrets.ts, formatEnvFile). */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)='(.*)'$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

function expectFailure(result: CliResult): void {
  expect(result.code, result.stdout + result.stderr).toBe(1);
  expect(result.stderr).not.toMatch(STACK_FRAME);
  expect(result.stdout).not.toContain('No registered clients');
}

describe('admin commands against a Docker deployment (rendered deploy folder, builtin router)', () => {
  let root: string;
  let paths: ProjectPaths;
  let before: string[];

  beforeAll(async () => {
    ({ root, paths } = await makeProject({ router: 'builtin', httpPort: ROUTER_PORT, bind: '127.0.0.1' }));
    const render = await runCli(['render', '--dir', paths.dir]);
    expect(render.code, render.stderr).toBe(0);
    before = await snapshot(paths.stateDir);
  }, RENDER_TIMEOUT);
  afterAll(async () => {
    if (root) await removeTempDir(root);
  });

  it('fails naming the unreachable public URL, the reason and the --url hint, and never opens a local store', async () => {
    for (const args of [
      ['clients', 'list'],
      ['clients', 'show', 'abc'],
      ['clients', 'prune', '--dry-run'],
      ['tokens', 'list'],
      ['tokens', 'revoke', '--user', 'alice'],
      ['clients', 'list', '--json'],
    ]) {
      const result = await runCli([...args, '--dir', paths.dir]);
      expectFailure(result);
      expect(result.stderr, args.join(' ')).toMatch(
        /^error: no auth runtime of the Docker deployment \(deploy\/compose\.yaml was rendered\) answers at https:\/\/mcp\.gateway\.invalid: (ENOTFOUND|EAI_AGAIN|no answer in time)/m,
      );
      expect(result.stderr, args.join(' ')).toContain(`hint: pass --url http://127.0.0.1:${ROUTER_PORT} (the router's published port`);
      expect(result.stderr).not.toContain('working on the database');
    }
    // Nothing was read into existence or written under .mcp-gateway/: no store.sqlite beside the bridge's data dir.
    expect(await snapshot(paths.stateDir)).toEqual(before);
    expect(before.some((line) => line.startsWith('store.sqlite'))).toBe(false);
  });

  it('smoke fails the same way: the router is named, with the published port to pass', async () => {
    const result = await runCli(['smoke', '--dir', paths.dir]);
    expectFailure(result);
    expect(result.stderr).toMatch(
      /^error: no router of the Docker deployment \(deploy\/compose\.yaml was rendered\) answers at https:\/\/mcp\.gateway\.invalid: /m,
    );
    expect(result.stderr).toContain(`hint: pass --url http://127.0.0.1:${ROUTER_PORT}`);
    expect(await snapshot(paths.stateDir)).toEqual(before);
  });

  it('names HTTP 404 and the router when what answers at --url does not route /admin/', async () => {
    const notFound: Server = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found'));
    await new Promise<void>((resolve) => notFound.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = notFound.address() as { port: number };
      const result = await runCli(['clients', 'list', '--dir', paths.dir, '--url', `http://127.0.0.1:${port}`]);
      expectFailure(result);
      expect(result.stderr).toContain(
        `error: the auth runtime of the Docker deployment (deploy/compose.yaml was rendered) at http://127.0.0.1:${port} has no admin API (HTTP 404 for GET /admin/ping)`,
      );
      expect(result.stderr).toMatch(/^hint: the router there does not route \/admin\/ to the auth runtime/m);
    } finally {
      notFound.close();
    }
    expect(await snapshot(paths.stateDir)).toEqual(before);
  });

  describe("with --url at the deployment's real auth runtime (mcp-gateway runtime auth on Redis)", () => {
    let auth: RuntimeProcess | undefined;
    let authUrl: string;

    beforeAll(async () => {
      if (!('url' in redis)) return;
      // The container's own config and secrets, as render wrote them; only Redis is this host's.
      const deployDir = join(paths.dir, 'deploy');
      const containerConfig = parse(await readFile(join(deployDir, 'config', 'mcp-gateway.yaml'), 'utf8')) as { store: Record<string, unknown> };
      expect(containerConfig.store['type']).toBe('redis');
      containerConfig.store = { type: 'redis', url: redis.url, keyPrefix: `mcpgw-admin-docker-${randomBytes(4).toString('hex')}:` };
      const configFile = join(root, 'auth-config.yaml');
      await writeFile(configFile, stringify(containerConfig));
      const { MCPGW_REDIS_PASSWORD: _password, ...secrets } = parseEnvFile(await readFile(join(deployDir, 'secrets', 'auth.env'), 'utf8'));
      expect(secrets['MCPGW_ADMIN_TOKEN']).toBe((await readFile(paths.adminToken, 'utf8')).trim());
      const port = await freePort();
      authUrl = `http://127.0.0.1:${port}`;
      auth = new RuntimeProcess(['auth'], { ...secrets, MCPGW_CONFIG: configFile, MCPGW_LISTEN: `127.0.0.1:${port}` });
      await auth.waitHealthy(`${authUrl}/health`);
    }, 30_000);
    afterAll(async () => {
      await auth?.stop('SIGTERM');
      if ('url' in redis) await redis.stop();
    });

    it.skipIf('skip' in redis)('clients list shows a client registered through that runtime', async () => {
      const registered = await fetch(`${authUrl}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'Registered in Docker', redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none' }),
      });
      expect(registered.status).toBe(201);
      const { client_id: clientId } = (await registered.json()) as { client_id: string };

      const listed = await runCli(['clients', 'list', '--dir', paths.dir, '--url', authUrl, '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const { clients } = JSON.parse(listed.stdout) as { clients: Array<{ clientId: string; clientName?: string }> };
      expect(clients).toEqual([expect.objectContaining({ clientId, clientName: 'Registered in Docker' })]);

      const table = await runCli(['clients', 'list', '--dir', paths.dir, '--url', authUrl]);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toContain(clientId);
      const tokens = await runCli(['tokens', 'list', '--dir', paths.dir, '--url', authUrl]);
      expect(tokens.code, tokens.stderr).toBe(0);
      expect(tokens.stdout).toBe('No grants.\n');

      // `--` first: a client id may start with a dash.
      const removed = await runCli(['clients', 'remove', '--dir', paths.dir, '--url', authUrl, '--', clientId]);
      expect(removed.code, removed.stderr).toBe(0);
      const after = await runCli(['clients', 'list', '--dir', paths.dir, '--url', authUrl, '--json']);
      expect((JSON.parse(after.stdout) as { clients: unknown[] }).clients).toEqual([]);
      expect(await snapshot(paths.stateDir)).toEqual(before);
    });

    it.skipIf('skip' in redis)('a wrong admin token fails with the 401 and says to run up again', async () => {
      const rightToken = await readFile(paths.adminToken, 'utf8');
      await writeSecret(paths.adminToken, `${randomBytes(32).toString('base64url')}\n`);
      try {
        const result = await runCli(['clients', 'list', '--dir', paths.dir, '--url', authUrl]);
        expectFailure(result);
        expect(result.stderr).toContain(
          `error: the auth runtime of the Docker deployment (deploy/compose.yaml was rendered) at ${authUrl} refused the admin token in .secrets/admin-token (HTTP 401)`,
        );
        expect(result.stderr).toMatch(/^hint: the deployment runs with another admin token than \.secrets\/admin-token .*run `mcp-gateway up`/m);
      } finally {
        await writeSecret(paths.adminToken, rightToken);
      }
      expect(await snapshot(paths.stateDir)).toEqual(before);
    });
  });
});

describe('which projects count as a Docker deployment for admin commands', () => {
  const roots: string[] = [];
  afterAll(async () => {
    for (const root of roots) await removeTempDir(root);
  });

  it('deploy.project without a rendered folder is one: no local database is opened', async () => {
    const { root, paths } = await makeProject({ project: 'acme-gw', router: 'builtin', httpPort: ROUTER_PORT });
    roots.push(root);
    await writeSecret(paths.adminToken, `${randomBytes(32).toString('base64url')}\n`);
    const result = await runCli(['clients', 'list', '--dir', paths.dir]);
    expectFailure(result);
    expect(result.stderr).toContain('no auth runtime of the Docker deployment (deploy.project set in the config) answers at https://mcp.gateway.invalid');
    // deploy.bind 0.0.0.0 (the default) answers on loopback.
    expect(result.stderr).toContain(`hint: pass --url http://127.0.0.1:${ROUTER_PORT}`);
    expect(await snapshot(paths.stateDir)).toEqual([]);
  });

  it('without an admin token it says so and that up creates it', async () => {
    const { root, paths } = await makeProject({ email: 'ops@example.com' });
    roots.push(root);
    const result = await runCli(['tokens', 'list', '--dir', paths.dir]);
    expectFailure(result);
    expect(result.stderr).toContain('so the Docker deployment (deploy.email set in the config) cannot be asked');
    expect(result.stderr).toContain('hint: `mcp-gateway up` creates it');
    expect(await snapshot(paths.stateDir)).toEqual([]);
  });

  it('deploy.domain alone is not (serve reads it for subdomain routing): with no gateway running, the embedded database is used as before', async () => {
    const { root, paths } = await makeProject({ routing: 'subdomain', domain: 'mcp.test' }, `http://127.0.0.1:${await freePort()}`);
    roots.push(root);
    const result = await runCli(['clients', 'list', '--dir', paths.dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('No registered clients.\n');
    expect(result.stderr).toContain('no gateway is running: working on the database');
  });
});
