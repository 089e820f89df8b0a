import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { STACK_FRAME, localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';

const SECRET = 'gh-secret-3f9a7c1d2e';

function githubInitArgs(dir: string): string[] {
  return ['init', '--dir', dir, '--yes', '--public-url', 'https://mcp.example.com', '--github-client-id', 'Iv1.0123abcd', '--allowed-users', 'alice, bob'];
}

function mode(path: string): Promise<number> {
  return stat(path).then((s) => s.mode & 0o777);
}

describe('mcp-gateway init', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('writes the config, a 0600 client secret and signing key in a 0700 .secrets, and a .gitignore', async () => {
    const result = await runCli([...githubInitArgs(dir), '--github-client-secret', SECRET]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    const yamlText = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
    expect(parse(yamlText)).toMatchObject({
      version: 1,
      publicUrl: 'https://mcp.example.com',
      provider: { type: 'github', clientId: 'Iv1.0123abcd', url: 'https://github.com' },
      allowedUsers: ['alice', 'bob'],
      servers: {},
    });
    expect(yamlText).not.toContain(SECRET);
    expect(result.stdout).not.toContain(SECRET);

    expect((await readFile(join(dir, '.secrets/github-client-secret'), 'utf8')).trim()).toBe(SECRET);
    expect(await mode(join(dir, '.secrets'))).toBe(0o700);
    expect(await mode(join(dir, '.secrets/github-client-secret'))).toBe(0o600);
    expect(await mode(join(dir, '.secrets/signing-keys.json'))).toBe(0o600);
    const keys = JSON.parse(await readFile(join(dir, '.secrets/signing-keys.json'), 'utf8')) as { keys: unknown[] };
    expect(keys.keys).toHaveLength(1);

    const gitignore = (await readFile(join(dir, '.gitignore'), 'utf8')).split('\n');
    expect(gitignore).toContain('.secrets/');
    expect(gitignore).toContain('.mcp-gateway/');
    expect(result.stdout).toMatch(/add-server/);
    expect(result.stdout).toMatch(/serve/);
  });

  it('reads the client secret from MCP_GATEWAY_GITHUB_CLIENT_SECRET', async () => {
    const result = await runCli(githubInitArgs(dir), { env: { MCP_GATEWAY_GITHUB_CLIENT_SECRET: SECRET } });
    expect(result.code).toBe(0);
    expect((await readFile(join(dir, '.secrets/github-client-secret'), 'utf8')).trim()).toBe(SECRET);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it('exits 2 naming --public-url when it is missing under --yes, and writes nothing', async () => {
    const result = await runCli(['init', '--dir', dir, '--yes', '--provider', 'local', '--allowed-users', 'alice']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: .*--public-url/);
    expect(result.stderr).toMatch(/^hint: /m);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(await readdir(dir)).toEqual([]);
  });

  // Before `github register` existed, a GitHub provider needed --github-client-id and the secret
  // under --yes. Now the app is created after init: no credentials is a valid start.
  it('writes a GitHub provider without an app when given no GitHub credentials and no terminal, and names github register as the next step', async () => {
    const result = await runCli(['init', '--dir', dir, '--public-url', 'https://mcp.example.com', '--allowed-users', 'alice']);
    expect(result.code, result.stderr).toBe(0);
    const config = parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')) as { provider: Record<string, unknown> };
    expect(config.provider).toMatchObject({ type: 'github', url: 'https://github.com' });
    expect(config.provider).not.toHaveProperty('clientId');
    await expect(stat(join(dir, '.secrets/github-client-secret'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(result.stdout).toMatch(/^ {2}mcp-gateway github register --dir \S+ +create the GitHub App/m);
  });

  it('exits 2 naming the secret when only --github-client-id is given and it cannot ask, and writes nothing', async () => {
    const result = await runCli([
      'init',
      '--dir',
      dir,
      '--yes',
      '--public-url',
      'https://mcp.example.com',
      '--allowed-users',
      'alice',
      '--github-client-id',
      'Iv1.0123abcd',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--github-client-secret');
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an http public URL on a non-loopback host with the dotted path publicUrl, and writes nothing', async () => {
    const result = await runCli(localInitArgs(dir, 'http://mcp.example.com'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ {2}publicUrl: must use https/m);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses to overwrite an existing project without --force and leaves it untouched', async () => {
    expect((await runCli(localInitArgs(dir))).code).toBe(0);
    const before = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');

    const result = await runCli(localInitArgs(dir, 'http://localhost:9000'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/already exists/);
    expect(result.stderr).toMatch(/^hint: .*--force/m);
    expect(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')).toBe(before);
  });

  it('with --force overwrites the config but keeps the signing key file, so issued tokens stay valid', async () => {
    expect((await runCli(localInitArgs(dir))).code).toBe(0);
    const keysBefore = await readFile(join(dir, '.secrets/signing-keys.json'), 'utf8');

    const result = await runCli([...localInitArgs(dir, 'http://localhost:9000'), '--force']);
    expect(result.code).toBe(0);
    expect(parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8'))).toMatchObject({ publicUrl: 'http://localhost:9000' });
    expect(await readFile(join(dir, '.secrets/signing-keys.json'), 'utf8')).toBe(keysBefore);
    expect(result.stdout).toMatch(/kept +\.secrets\/signing-keys\.json/);
  });

  it('with --force writes a new signing key when the old one is missing', async () => {
    expect((await runCli(localInitArgs(dir))).code).toBe(0);
    await rm(join(dir, '.secrets/signing-keys.json'));

    const result = await runCli([...localInitArgs(dir), '--force']);
    expect(result.code).toBe(0);
    expect(await mode(join(dir, '.secrets/signing-keys.json'))).toBe(0o600);
  });

  it('with the local provider needs no GitHub credentials and signs in as the first allowed user', async () => {
    const result = await runCli([...localInitArgs(dir), '--allowed-users', 'carol,dave', '--listen', '127.0.0.1:8080']);
    expect(result.code).toBe(0);
    expect(parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8'))).toMatchObject({
      provider: { type: 'local', user: 'carol' },
      allowedUsers: ['carol', 'dave'],
      listen: '127.0.0.1:8080',
    });
    await expect(stat(join(dir, '.secrets/github-client-secret'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('appends the ignore entries to an existing .gitignore that lacks them, keeping its lines', async () => {
    await writeFile(join(dir, '.gitignore'), 'node_modules/\n/.secrets');
    expect((await runCli(localInitArgs(dir))).code).toBe(0);
    const lines = (await readFile(join(dir, '.gitignore'), 'utf8')).split('\n');
    expect(lines[0]).toBe('node_modules/');
    expect(lines).toContain('/.secrets');
    expect(lines).toContain('.mcp-gateway/');
    expect(lines).not.toContain('.secrets/');
  });
});

describe('init with group allowlists and OpenID Connect', () => {
  it('writes GitHub org and team rules without requiring --allowed-users', async () => {
    const dir = await makeTempDir();
    try {
      const result = await runCli([
        'init',
        '--dir',
        dir,
        '--yes',
        '--public-url',
        'https://mcp.example.com',
        '--github-client-id',
        'X',
        '--github-client-secret',
        'Y',
        '--github-orgs',
        'acme',
        '--github-teams',
        'acme/platform',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const yaml = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
      expect(yaml).toMatch(/orgs:\n\s+- acme/);
      expect(yaml).toMatch(/teams:\n\s+- acme\/platform/);
      expect(result.stdout).toContain('members of acme');
    } finally {
      await removeTempDir(dir);
    }
  });

  it('configures an OpenID Connect provider, its secret in .secrets/ only', async () => {
    const dir = await makeTempDir();
    try {
      const result = await runCli(
        [
          'init',
          '--dir',
          dir,
          '--yes',
          '--provider',
          'oidc',
          '--public-url',
          'https://mcp.example.com',
          '--oidc-issuer',
          'https://accounts.google.com',
          '--oidc-client-id',
          'abc',
          '--email-domains',
          'example.com',
        ],
        {
          env: { MCP_GATEWAY_OIDC_CLIENT_SECRET: 'oidc-secret-value' },
        },
      );
      expect(result.code, result.stderr).toBe(0);
      const yaml = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
      expect(yaml).toContain('type: oidc');
      expect(yaml).not.toContain('oidc-secret-value');
      expect(result.stdout).not.toContain('oidc-secret-value');
      expect((await stat(join(dir, '.secrets', 'oidc-client-secret'))).mode & 0o777).toBe(0o600);
    } finally {
      await removeTempDir(dir);
    }
  });

  it('names the missing OpenID Connect flags under --yes', async () => {
    const dir = await makeTempDir();
    try {
      const result = await runCli([
        'init',
        '--dir',
        dir,
        '--yes',
        '--provider',
        'oidc',
        '--public-url',
        'https://mcp.example.com',
        '--allowed-users',
        'a@example.com',
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--oidc-issuer');
      expect(result.stderr).toContain('--oidc-client-id');
    } finally {
      await removeTempDir(dir);
    }
  });
});
