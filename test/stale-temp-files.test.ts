import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleTempFiles } from '../runtime/fs/stale-temp-files.js';
import { makeTempDir, removeTempDir } from './helpers/cli-run.js';

describe('temp files of interrupted atomic writes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-stale-tmp-');
    await mkdir(join(dir, '.secrets'));
  });
  afterAll(async () => removeTempDir(dir));

  it("removes those whose writer is gone, keeps a live writer's and everything else", async () => {
    // A pid that has certainly exited: a finished child's.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(join(dir, `mcp-gateway.yaml.${gone}.0123456789ab.tmp`), 'half');
    await writeFile(join(dir, '.secrets', `admin-token.${gone}.ba9876543210.tmp`), 'half a secret');
    await writeFile(join(dir, `mcp-gateway.yaml.${process.pid}.aaaaaaaaaaaa.tmp`), 'being written');
    await writeFile(join(dir, 'notes.tmp'), 'not ours');
    const removed = await removeStaleTempFiles([dir, join(dir, '.secrets'), join(dir, 'missing')]);
    expect(removed.map((path) => path.slice(dir.length + 1)).sort()).toEqual([
      `.secrets/admin-token.${gone}.ba9876543210.tmp`,
      `mcp-gateway.yaml.${gone}.0123456789ab.tmp`,
    ]);
    expect((await readdir(dir)).sort()).toEqual(['.secrets', `mcp-gateway.yaml.${process.pid}.aaaaaaaaaaaa.tmp`, 'notes.tmp']);
  });
});
