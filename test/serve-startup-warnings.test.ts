import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ECHO_SERVER } from './helpers/bridge-harness.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ServeProcess } from './helpers/serve-process.js';

const MISSING_COMMAND = 'mcpgw-no-such-command';

/*
 * A stdio server whose command is not installed, or whose cwd is gone, used to be listed as
 * ready at start; the operator learnt otherwise from the first client's failed session.
 */
describe('serve warns at start about stdio servers that cannot start', () => {
  let dir: string;
  // Outside the project: a cwd inside it is refused outright (the sandbox hides the project).
  const missingCwd = join(tmpdir(), `mcpgw-gone-${process.pid}-${Date.now()}`);

  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-warnings-');
    const init = await runCli(localInitArgs(dir, `http://127.0.0.1:${await freePort()}`));
    expect(init.code, init.stderr).toBe(0);
    const echo = `"${process.execPath}" "${ECHO_SERVER}"`;
    for (const [name, command] of [
      ['echo', echo],
      ['nocmd', `${MISSING_COMMAND} --stdio`],
      ['nocwd', echo],
    ] as const) {
      const added = await runCli(['add-server', name, '--dir', dir, '--command', command]);
      expect(added.code, added.stderr).toBe(0);
    }
    const file = join(dir, 'mcp-gateway.yaml');
    const config = parse(await readFile(file, 'utf8')) as { servers: Record<string, Record<string, unknown>> };
    config.servers['nocwd']!['cwd'] = missingCwd;
    await writeFile(file, stringify(config));
  }, 30_000);
  afterAll(async () => {
    await removeTempDir(dir);
  });

  const serveUntilReady = async (args: string[]): Promise<ServeProcess> => {
    const serve = new ServeProcess(['--dir', dir, '--listen', '127.0.0.1:0', ...args]);
    try {
      // Generous: the whole suite runs in parallel on small CI machines.
      await serve.waitFor(/Press Ctrl\+C to stop/, { timeoutMs: 30_000 });
    } catch (err) {
      serve.kill();
      throw err;
    }
    return serve;
  };

  it('names each one with the fix, lists neither as ready, and still lists the healthy server', async () => {
    const serve = await serveUntilReady(['--log-format', 'pretty']);
    try {
      expect(serve.stderr).toContain(`warning: server nocmd will not start: command ${MISSING_COMMAND} is not installed`);
      expect(serve.stderr).toMatch(new RegExp(`fix: install ${MISSING_COMMAND} on the PATH serve runs with, or .*add-server nocmd .*--force`));
      expect(serve.stderr).toContain(`warning: server nocwd will not start: its cwd ${missingCwd} does not exist`);
      expect(serve.stderr).toMatch(/fix: create the directory, or edit servers\.nocwd\.cwd in mcp-gateway\.yaml/);
      // The healthy server warns about nothing.
      expect(serve.stderr).not.toMatch(/server echo will not start/);

      expect(serve.stdout).toMatch(/^ {2}echo +http:\/\/127\.0\.0\.1:\d+\/echo\/mcp$/m);
      expect(serve.stdout).not.toContain('/nocmd/mcp');
      expect(serve.stdout).not.toContain('/nocwd/mcp');
      expect(serve.stdout).toContain('not ready: nocmd, nocwd (see the warnings above)');
    } finally {
      await serve.stop();
    }
  }, 45_000);

  it('logs them as warn entries with an event, a server and a hint in the JSON format', async () => {
    const serve = await serveUntilReady(['--log-format', 'json']);
    try {
      const entries = serve.stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const warnings = entries.filter((entry) => entry['level'] === 40 && typeof entry['server'] === 'string');
      expect(warnings).toEqual([
        expect.objectContaining({ event: 'server_command_missing', server: 'nocmd', hint: expect.stringContaining(`install ${MISSING_COMMAND}`) }),
        expect.objectContaining({ event: 'server_cwd_missing', server: 'nocwd', hint: expect.stringContaining('servers.nocwd.cwd') }),
      ]);
      expect(warnings[1]!['msg']).toContain(missingCwd);
      expect(serve.stdout).toContain('not ready: nocmd, nocwd');
    } finally {
      await serve.stop();
    }
  }, 45_000);
});
