import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, STACK_FRAME, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await removeTempDir(dir);
});

const VALID_HEAD = 'publicUrl: http://127.0.0.1:8080\nprovider: { type: local }\nallowedUsers: [alice]\n';

describe('usage errors', () => {
  it('an unknown flag exits 2 with one error line and a pointer to the command help, no stack', async () => {
    const result = await runCli(['init', '--dir', dir, '--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`error: unknown option '--bogus'\nhint: see mcp-gateway init --help\n`);
    expect(result.stdout).toBe('');
  });

  it('an unknown command exits 2', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown command 'frobnicate'/);
    expect(result.stderr).toMatch(/^hint: see mcp-gateway --help$/m);
  });

  it('a missing argument exits 2', async () => {
    const result = await runCli(['add-server', '--dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: missing required argument 'name'/);
    expect(result.stderr).toMatch(/^hint: see mcp-gateway add-server --help$/m);
  });

  it('a missing required option of a subcommand exits 2, pointing at that subcommand', async () => {
    const result = await runCli(['token', 'issue', '--dir', dir, '--server', 'time']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: required option '--user <login>' not specified/);
    expect(result.stderr).toMatch(/^hint: see mcp-gateway token issue --help$/m);
  });

  it('an invalid --provider choice exits 2', async () => {
    const result = await runCli(['init', '--dir', dir, '--provider', 'gitlab']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: .*--provider.*github, oidc, local/);
  });
});

describe('config errors', () => {
  it('a YAML syntax error exits 1 naming the file, without a stack', async () => {
    await writeFile(join(dir, 'mcp-gateway.yaml'), `${VALID_HEAD}servers:\n  time: [\n`);
    const result = await runCli(['list', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*mcp-gateway\.yaml is not valid YAML/);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('a schema error exits 1 with the dotted path of the field, without a stack', async () => {
    await writeFile(join(dir, 'mcp-gateway.yaml'), `${VALID_HEAD}servers:\n  x:\n    command: ""\n`);
    const result = await runCli(['list', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ {2}servers\.x\.command: /m);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('a failed add-server against an invalid config leaves the YAML byte-identical', async () => {
    const text = `${VALID_HEAD}servers:\n  x:\n    command: ""\n# a comment the CLI must not lose\n`;
    await writeFile(join(dir, 'mcp-gateway.yaml'), text);
    const result = await runCli(['add-server', 'time', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')).toBe(text);
  });

  it('a missing config exits 1 and points at init', async () => {
    const result = await runCli(['list', '--dir', join(dir, 'nowhere')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hint: .*mcp-gateway init/m);
  });
});

describe('help and version', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('add-server --help lists the catalog and examples', async () => {
    const result = await runCli(['add-server', '--help']);
    expect(result.code).toBe(0);
    for (const name of ['time', 'fetch', 'memory', 'filesystem', 'everything', 'sequential-thinking']) expect(result.stdout).toContain(name);
    expect(result.stdout).toContain('Examples:');
  });
});
