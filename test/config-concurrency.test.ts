import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';

/** Regression: two add-server runs at once both exited 0 and one server was missing (4 of 20 lost). */
describe('concurrent CLI commands on one project', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-concurrency-');
    const init = await runCli(['init', '--dir', dir, '--yes', '--provider', 'local', '--public-url', 'http://127.0.0.1:8080', '--allowed-users', 'alice']);
    expect(init.code, init.stderr).toBe(0);
    for (const name of ['old-1', 'old-2', 'old-3']) {
      expect((await runCli(['add-server', name, '--dir', dir, '--command', 'node server.js'])).code).toBe(0);
    }
  });
  afterAll(async () => removeTempDir(dir));

  it('20 parallel add-server, 3 remove-server and 2 keys rotate lose no update', async () => {
    const runs = [
      ...Array.from({ length: 20 }, (_, i) => runCli(['add-server', `s${i}`, '--dir', dir, '--command', `node s${i}.js`])),
      ...['old-1', 'old-2', 'old-3'].map((name) => runCli(['remove-server', name, '--dir', dir])),
      runCli(['keys', 'rotate', '--dir', dir, '--json']),
      runCli(['keys', 'rotate', '--dir', dir, '--json']),
    ];
    const results = await Promise.all(runs);
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const config = parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')) as { servers: Record<string, { args: string[] }> };
    expect(Object.keys(config.servers).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`).sort());
    for (let i = 0; i < 20; i++) expect(config.servers[`s${i}`]?.args).toEqual([`s${i}.js`]);
    // Both rotations' keys are there: the initial key plus two new ones.
    const keys = JSON.parse(await readFile(join(dir, '.secrets', 'signing-keys.json'), 'utf8')) as { keys: unknown[] };
    expect(keys.keys.length).toBe(3);
    // No lock or temp file is left behind.
    expect((await readdir(dir)).filter((name) => name.includes('.lock') || name.includes('.tmp'))).toEqual([]);
  }, 120_000);
});
