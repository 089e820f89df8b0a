import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { STACK_FRAME, localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';

/** `add-server NAME --url URL --oauth [--scope S] [--client-id ID --client-secret-env VAR]` at the command line. */
let dir: string;
const configFile = () => join(dir, 'mcp-gateway.yaml');
const readConfig = async () => parse(await readFile(configFile(), 'utf8')) as { servers: Record<string, Record<string, unknown>> };
const secretFile = (name: string) => join(dir, '.secrets', 'servers', `${name}.oauth-client-secret`);
const SECRET = 'upstream-client-secret-4711';

beforeAll(async () => {
  dir = await makeTempDir();
  expect((await runCli([...localInitArgs(dir), '--router', 'builtin'])).code).toBe(0);
});
afterAll(async () => {
  await removeTempDir(dir);
});

/** A command that must fail without touching the config. */
async function refused(args: string[], env: Record<string, string> = {}) {
  const before = await readFile(configFile());
  const result = await runCli(args, { env });
  expect(Buffer.compare(await readFile(configFile()), before)).toBe(0);
  expect(result.stderr).not.toMatch(STACK_FRAME);
  expect(result.stderr).not.toContain(SECRET);
  return result;
}

describe('mcp-gateway add-server --oauth', () => {
  it('writes oauth: {} for a server whose upstream client is found when the first user connects', async () => {
    const result = await runCli(['add-server', 'linear', '--dir', dir, '--url', 'https://mcp.linear.app/mcp', '--oauth']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('each user authorizes the upstream once');
    expect((await readConfig()).servers['linear']).toEqual({ url: 'https://mcp.linear.app/mcp', oauth: {} });
  });

  it('keeps scopes and a pre-registered client id in the YAML, the secret in .secrets/ (0600), and never prints it', async () => {
    const result = await runCli(
      [
        'add-server',
        'notion',
        '--dir',
        dir,
        '--url',
        'https://mcp.notion.com/mcp',
        '--oauth',
        '--scope',
        'read write',
        '--scope',
        'read',
        '--client-id',
        'abc123',
        '--client-secret-env',
        'NOTION_SECRET',
        '--json',
      ],
      { env: { NOTION_SECRET: ` ${SECRET}\n` } },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(JSON.parse(result.stdout)).toMatchObject({ server: 'notion', oauth: { scopes: ['read', 'write'], clientId: 'abc123', clientSecret: true } });
    expect((await readConfig()).servers['notion']).toEqual({ url: 'https://mcp.notion.com/mcp', oauth: { scopes: ['read', 'write'], clientId: 'abc123' } });
    expect(await readFile(configFile(), 'utf8')).not.toContain(SECRET);
    expect((await readFile(secretFile('notion'), 'utf8')).trim()).toBe(SECRET);
    expect((await stat(secretFile('notion'))).mode & 0o777).toBe(0o600);
    // A Docker deployment: the auth container gets it (it runs the upstream flow), the server's proxy does not.
    const render = await runCli(['render', '--dir', dir]);
    expect(render.code, render.stderr).toBe(0);
    const secretsDir = join(dir, 'deploy', 'secrets');
    expect(await readFile(join(secretsDir, 'auth.env'), 'utf8')).toContain(`MCPGW_UPSTREAM_OAUTH_SECRETS='{"notion":"${SECRET}"}'`);
    expect(await readFile(join(secretsDir, 'bridge-notion.env'), 'utf8').catch(() => '')).not.toContain(SECRET);
    expect(await readFile(join(dir, 'deploy', 'config', 'mcp-gateway.yaml'), 'utf8')).not.toContain(SECRET);
  }, 60_000);

  it('refuses the oauth flags without --url or --oauth, an unset variable, and bad values, writing nothing', async () => {
    expect((await refused(['add-server', 'x1', '--dir', dir, '--command', 'node s.js', '--oauth'])).stderr).toContain('--oauth is for remote servers');
    expect((await refused(['add-server', 'x2', '--dir', dir, '--url', 'https://a.example/mcp', '--scope', 'read'])).stderr).toContain('--scope needs --oauth');
    expect((await refused(['add-server', 'x3', '--dir', dir, '--url', 'https://a.example/mcp', '--oauth', '--client-secret-env', 'V'])).stderr).toContain(
      'needs --client-id',
    );
    const unset = await refused([
      'add-server',
      'x4',
      '--dir',
      dir,
      '--url',
      'https://a.example/mcp',
      '--oauth',
      '--client-id',
      'c',
      '--client-secret-env',
      'MCPGW_TEST_UNSET_VAR',
    ]);
    expect(unset.code).not.toBe(0);
    expect(unset.stderr).toContain('the variable is not set');
    expect(
      (await refused(['add-server', 'x5', '--dir', dir, '--url', 'https://a.example/mcp', '--oauth', '--client-secret-env', '$(rm -rf /)', '--client-id', 'c']))
        .stderr,
    ).toContain('is not an environment variable name');
    expect((await refused(['add-server', 'x6', '--dir', dir, '--url', 'https://a.example/mcp', '--oauth', '--scope', 'a"b'])).stderr).toContain(
      'is not a scope',
    );
    expect((await refused(['add-server', 'x7', '--dir', dir, '--url', 'https://a.example/mcp', '--oauth', '--client-id', 'has space'])).stderr).toContain(
      '--client-id',
    );
    const twoLines = await refused(
      ['add-server', 'x8', '--dir', dir, '--url', 'https://a.example/mcp', '--oauth', '--client-id', 'c', '--client-secret-env', 'TWO'],
      {
        TWO: `${SECRET}\nsecond`,
      },
    );
    expect(twoLines.stderr).toContain('must be one line');
    // The user's own token is the Authorization header: a static one beside it is refused by the config's own rule.
    const both = await refused(['add-server', 'x9', '--dir', dir, '--url', 'https://a.example/mcp', '--oauth', '--header', 'Authorization=Bearer static']);
    expect(both.stderr).toContain("Authorization is the user's own upstream token with oauth");
    await expect(stat(secretFile('x4'))).rejects.toThrow();
  });

  it('refuses an aggregate with an oauth member, and remove-server takes the client secret with it', async () => {
    const aggregate = await refused(['add-server', 'team', '--dir', dir, '--aggregate', 'notion']);
    expect(aggregate.stderr).toContain("uses each user's own upstream OAuth token");
    expect((await runCli(['remove-server', 'notion', '--dir', dir])).code).toBe(0);
    await expect(stat(secretFile('notion'))).rejects.toThrow();
  });
});
