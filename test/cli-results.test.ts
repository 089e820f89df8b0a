import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';

/**
 * What the commands that change a project tell the person (or script) who ran them: `init
 * --force` keeps the servers unless told otherwise, `--json` results, and advice that fits how
 * the project runs (a `serve` reloads by itself; a Docker deployment needs `up`).
 */
let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(dir);
});

const readConfig = async () => parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')) as Record<string, unknown> & { servers: Record<string, unknown> };

async function ok(args: string[]) {
  const result = await runCli(args);
  expect(result.code, result.stderr).toBe(0);
  return result;
}

describe('init --force', () => {
  it('keeps the configured servers, says so, and saves the previous file', async () => {
    await ok(localInitArgs(dir));
    await ok(['add-server', 'time', '--dir', dir]);
    await ok(['add-server', 'docs', '--dir', dir, '--url', 'https://docs.example.net/mcp', '--header', 'X-Api-Key=k-123']);
    const before = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');

    const result = await ok([...localInitArgs(dir, 'http://localhost:9000'), '--force']);
    const config = await readConfig();
    expect(config['publicUrl']).toBe('http://localhost:9000');
    expect(Object.keys(config.servers).sort()).toEqual(['docs', 'time']);
    expect(config.servers['time']).toMatchObject({ command: 'uvx', args: ['mcp-server-time'] });
    expect(result.stdout).toMatch(/kept +servers time, docs \(--reset-servers drops them\)/);
    expect(result.stdout).toContain('mcp-gateway.yaml.bak');
    expect(await readFile(join(dir, 'mcp-gateway.yaml.bak'), 'utf8')).toBe(before);
    // The remote server's header value stays where it was: the kept entry still names it.
    expect(await readFile(join(dir, '.secrets', 'servers', 'docs.headers.json'), 'utf8')).toContain('k-123');
    expect((await ok(['list', '--dir', dir, '--json'])).stdout).toContain('docs');
  });

  it('with --reset-servers starts without servers and names the ones it dropped', async () => {
    await ok(localInitArgs(dir));
    await ok(['add-server', 'time', '--dir', dir]);
    const result = await ok([...localInitArgs(dir), '--force', '--reset-servers']);
    expect((await readConfig()).servers).toEqual({});
    expect(result.stdout).toMatch(/dropped +servers time/);
  });

  it('names the settings it does not carry over, which the saved copy still has', async () => {
    await ok(localInitArgs(dir));
    const text = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
    expect(text).toMatch(/^shutdownGrace: /m);
    await writeFile(join(dir, 'mcp-gateway.yaml'), text.replace(/^shutdownGrace: .*$/m, 'shutdownGrace: 45s'));
    const result = await ok([...localInitArgs(dir), '--force']);
    expect(result.stdout).toMatch(/reset +shutdownGrace \(to the defaults/);
    // Settings left as init writes them are not reported.
    expect(result.stdout).not.toMatch(/reset +.*(tokens|store|sandbox)/);
    const again = await ok([...localInitArgs(dir), '--force']);
    expect(again.stdout).not.toMatch(/^ +reset /m);
  });

  it('refuses to replace an unreadable config unless --reset-servers, and leaves it as it was', async () => {
    await ok(localInitArgs(dir));
    await writeFile(join(dir, 'mcp-gateway.yaml'), 'servers: [\n');
    const refused = await runCli([...localInitArgs(dir), '--force']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot keep its servers/);
    expect(refused.stderr).toMatch(/^hint: .*--reset-servers/m);
    expect(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')).toBe('servers: [\n');
    await ok([...localInitArgs(dir), '--force', '--reset-servers']);
    expect((await readConfig()).servers).toEqual({});
  });

  it('refuses a kept server the new config cannot take, naming it and the way out', async () => {
    await ok(localInitArgs(dir));
    const text = await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8');
    await writeFile(join(dir, 'mcp-gateway.yaml'), text.replace('servers: {}', 'servers:\n  docs:\n    url: http://docs.example.net/mcp\n'));
    const refused = await runCli([...localInitArgs(dir), '--force']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/servers\.docs\.url: must use https/);
    expect(refused.stderr).toMatch(/servers kept from the previous mcp-gateway\.yaml: docs/);
  });
});

describe('--json results', () => {
  it('init, add-server, remove-server and token issue print one JSON document and nothing else on stdout', async () => {
    const init = JSON.parse((await ok([...localInitArgs(dir), '--json'])).stdout) as Record<string, unknown>;
    expect(init).toMatchObject({ dir, publicUrl: 'http://127.0.0.1:8080', provider: 'local', allowedUsers: ['alice'], serversKept: [] });
    expect(init['changes']).toContainEqual({ action: 'wrote', what: 'mcp-gateway.yaml' });
    expect(init['next']).toContain(`mcp-gateway serve --dir ${dir}`);

    const added = JSON.parse((await ok(['add-server', 'time', '--dir', dir, '--env', 'TZ=UTC', '--json'])).stdout) as Record<string, unknown>;
    expect(added).toMatchObject({ server: 'time', replaced: false, command: 'uvx', args: ['mcp-server-time'], endpoint: 'http://127.0.0.1:8080/time/mcp' });
    // Names only: a value given with --env could be a credential.
    expect(added['env']).toEqual(['TZ']);
    expect(JSON.stringify(added)).not.toContain('UTC');

    const remote = JSON.parse(
      (await ok(['add-server', 'docs', '--dir', dir, '--url', 'https://docs.example.net/mcp', '--header', 'X-Api-Key=k-123', '--json'])).stdout,
    );
    expect(remote).toMatchObject({ server: 'docs', url: 'https://docs.example.net/mcp', headers: ['X-Api-Key'] });
    expect(JSON.stringify(remote)).not.toContain('k-123');

    const issued = JSON.parse((await ok(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'time', '--ttl', '5m', '--json'])).stdout);
    expect(issued).toMatchObject({ tokenType: 'Bearer', user: 'alice', server: 'time', audience: 'http://127.0.0.1:8080/time/mcp', expiresIn: 300 });
    expect(decodeJwt(issued.token)).toMatchObject({ aud: 'http://127.0.0.1:8080/time/mcp' });
    expect(Date.parse(issued.expiresAt)).toBeGreaterThan(Date.now());

    const removed = JSON.parse((await ok(['remove-server', 'time', '--dir', dir, '--json'])).stdout);
    expect(removed).toEqual({ server: 'time', removed: true, endpoint: 'http://127.0.0.1:8080/time/mcp', next: `mcp-gateway serve --dir ${dir}` });
  });
});

describe('advice that fits the deployment', () => {
  it('a serve project is told that a running serve reloads; a Docker project to run up, without host PATH warnings', async () => {
    await ok(localInitArgs(dir));
    const served = await ok(['add-server', 'time', '--dir', dir]);
    expect(served.stdout).toContain('A running mcp-gateway serve picks it up by itself');

    await mkdir(join(dir, 'deploy'));
    await writeFile(join(dir, 'deploy', 'compose.yaml'), 'services: {}\n');
    const docker = await ok(['add-server', 'fetch', '--dir', dir, '--command', 'definitely-not-installed-mcp --x']);
    expect(docker.stdout).toContain(`Apply it to the Docker deployment: mcp-gateway up --dir ${dir}`);
    expect(docker.stdout).not.toContain('mcp-gateway serve');
    expect(docker.stderr).not.toMatch(/not on PATH/);
    const removed = await ok(['remove-server', 'fetch', '--dir', dir]);
    expect(removed.stdout).toContain('Apply it to the Docker deployment with mcp-gateway up');
  });

  it('init with an https public URL and no listen points at up, not at serve (which speaks plain HTTP)', async () => {
    const result = await ok(['init', '--dir', dir, '--yes', '--provider', 'local', '--public-url', 'https://mcp.example.com', '--allowed-users', 'alice']);
    const next = result.stdout.slice(result.stdout.indexOf('Next steps:'));
    expect(next).toMatch(/mcp-gateway up --dir \S+ +start the Docker deployment/);
    expect(next).not.toMatch(/mcp-gateway serve/);
  });

  it('init --listen 8080 means this host only', async () => {
    await ok([...localInitArgs(dir), '--listen', '8080']);
    expect((await readConfig())['listen']).toBe('127.0.0.1:8080');
  });
});
