import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { STACK_FRAME, localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';

// One project shared by the tests below, in order: each spawn costs a few hundred milliseconds.
let dir: string;
const configFile = () => join(dir, 'mcp-gateway.yaml');
const readConfig = async () => parse(await readFile(configFile(), 'utf8')) as { servers: Record<string, Record<string, unknown>> };

beforeAll(async () => {
  dir = await makeTempDir();
  const init = await runCli(localInitArgs(dir));
  expect(init.code).toBe(0);
});
afterAll(async () => {
  await removeTempDir(dir);
});

/** Runs a command that must fail, and checks the config file was not touched. */
async function failsWithoutWriting(args: string[]) {
  const before = await readFile(configFile());
  const result = await runCli(args);
  expect(Buffer.compare(await readFile(configFile()), before)).toBe(0);
  expect(result.stderr).not.toMatch(STACK_FRAME);
  return result;
}

describe('mcp-gateway add-server', () => {
  it('adds a catalog server with its documented launch command and prints its endpoint', async () => {
    const result = await runCli(['add-server', 'time', '--dir', dir]);
    expect(result.code).toBe(0);
    expect((await readConfig()).servers['time']).toMatchObject({ command: 'uvx', args: ['mcp-server-time'] });
    expect(result.stdout).toContain('http://127.0.0.1:8080/time/mcp');
  });

  it('adds filesystem with an absolute <dir>/files allowed directory, created now', async () => {
    const result = await runCli(['add-server', 'filesystem', '--dir', dir]);
    expect(result.code).toBe(0);
    const files = join(dir, 'files');
    expect((await readConfig()).servers['filesystem']).toMatchObject({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', files] });
    expect((await stat(files)).isDirectory()).toBe(true);
    expect(result.stdout).toContain(files);
  });

  it('adds any server with --command (split like a shell) and repeated --env', async () => {
    const result = await runCli([
      'add-server',
      'notes',
      '--dir',
      dir,
      '--command',
      `node "/opt/my server/index.js" --mode 'read only'`,
      '--env',
      'API_KEY=abc=def',
      '--env',
      'EMPTY=',
      '--description',
      'My notes',
    ]);
    expect(result.code).toBe(0);
    expect((await readConfig()).servers['notes']).toEqual({
      command: 'node',
      args: ['/opt/my server/index.js', '--mode', 'read only'],
      env: { API_KEY: 'abc=def', EMPTY: '' },
      description: 'My notes',
    });
    expect(result.stdout).toContain('http://127.0.0.1:8080/notes/mcp');
    expect(result.stdout).not.toContain('abc=def');
  });

  it('refuses an unknown name without --command (exit 1), listing the catalog', async () => {
    const result = await failsWithoutWriting(['add-server', 'weather', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*\btime\b.*\bfetch\b/);
    expect(result.stderr).toMatch(/^hint: .*--command/m);
  });

  it('refuses a name that is already configured (exit 1) unless --force', async () => {
    const result = await failsWithoutWriting(['add-server', 'time', '--dir', dir, '--command', 'other-time-server']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hint: .*--force/m);

    const forced = await runCli(['add-server', 'time', '--dir', dir, '--command', 'uvx mcp-server-time --local-timezone=Europe/Paris', '--force']);
    expect(forced.code).toBe(0);
    expect((await readConfig()).servers['time']).toMatchObject({ args: ['mcp-server-time', '--local-timezone=Europe/Paris'] });
  });

  it.each([
    ['an --env without "="', ['--env', 'API_KEY']],
    ['an --env with an invalid name', ['--env', '1KEY=x']],
    ['a shell operator in --command', ['--command', 'node server.js | tee log']],
    ['a variable in --command', ['--command', 'node $HOME/server.js']],
  ])('refuses %s as a usage error (exit 2)', async (_what, flags) => {
    const result = await failsWithoutWriting(['add-server', 'extra', '--dir', dir, '--command', 'node server.js', ...flags]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: /);
  });

  it('refuses an invalid server name as a usage error, quoting the name rule', async () => {
    const result = await failsWithoutWriting(['add-server', 'My_Server', '--dir', dir, '--command', 'node server.js']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^hint: .*lowercase letters, digits or dashes/m);
  });
});

describe('mcp-gateway list', () => {
  it('--json prints one JSON document with endpoints and commands, without environment values', async () => {
    const result = await runCli(['list', '--dir', dir, '--json']);
    expect(result.code).toBe(0);
    const listing = JSON.parse(result.stdout) as unknown;
    expect(listing).toEqual({
      publicUrl: 'http://127.0.0.1:8080',
      servers: [
        expect.objectContaining({ name: 'filesystem', endpoint: 'http://127.0.0.1:8080/filesystem/mcp', command: 'npx' }),
        {
          name: 'notes',
          endpoint: 'http://127.0.0.1:8080/notes/mcp',
          command: 'node',
          args: ['/opt/my server/index.js', '--mode', 'read only'],
          description: 'My notes',
        },
        expect.objectContaining({ name: 'time', command: 'uvx' }),
      ],
    });
    expect(result.stdout).not.toContain('abc=def');
  });

  it('prints each server with its endpoint and a copy-pasteable command line', async () => {
    const result = await runCli(['list', '--dir', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('http://127.0.0.1:8080/notes/mcp');
    expect(result.stdout).toContain(`node '/opt/my server/index.js' --mode 'read only'`);
  });
});

describe('mcp-gateway remove-server', () => {
  it('removes a configured server', async () => {
    const result = await runCli(['remove-server', 'notes', '--dir', dir]);
    expect(result.code).toBe(0);
    expect(Object.keys((await readConfig()).servers).sort()).toEqual(['filesystem', 'time']);
  });

  it('refuses an unknown name (exit 1), listing the configured ones', async () => {
    const result = await failsWithoutWriting(['remove-server', 'notes', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hint: .*filesystem, time/m);
  });
});
