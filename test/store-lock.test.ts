import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../runtime/store/embedded-store.js';
import { liveLockHolder, lockPathFor } from '../runtime/store/store-lock.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mcpgw-lock-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const statePath = (): string => join(tmp, randomUUID(), 'state.json');

describe('embedded store lock', () => {
  it('holds <state>.lock (0600, this pid) while open and removes it on close', async () => {
    const path = statePath();
    const store = await createEmbeddedStore({ path });
    expect((await stat(lockPathFor(path))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(lockPathFor(path), 'utf8'))).toMatchObject({ pid: process.pid });
    expect(await liveLockHolder(path)).toMatchObject({ pid: process.pid });
    await store.close();
    await expect(stat(lockPathFor(path))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await liveLockHolder(path)).toBeUndefined();
  });

  it('refuses a second open of the same file with ERR_STORE_LOCKED while the first is open', async () => {
    const path = statePath();
    const first = await createEmbeddedStore({ path });
    await expect(createEmbeddedStore({ path })).rejects.toMatchObject({ code: 'ERR_STORE_LOCKED' });
    await first.set('k', 'v');
    await first.close();
    const second = await createEmbeddedStore({ path });
    expect(await second.get('k')).toBe('v');
    await second.close();
  });

  it('takes over a lock whose process is gone, and one that holds no pid', async () => {
    const path = statePath();
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.on('exit', resolve));
    await createEmbeddedStore({ path }).then((s) => s.close());
    await writeFile(lockPathFor(path), JSON.stringify({ pid: dead.pid }));
    expect(await liveLockHolder(path)).toBeUndefined();
    const store = await createEmbeddedStore({ path });
    expect(await liveLockHolder(path)).toMatchObject({ pid: process.pid });
    await store.close();
    await writeFile(lockPathFor(path), 'garbage');
    await (await createEmbeddedStore({ path })).close();
  });

  it('releases the lock when the state file is corrupt, so fixing the file is enough', async () => {
    const path = statePath();
    await (await createEmbeddedStore({ path })).close();
    await writeFile(path, '{"version":1,"entries":{');
    await expect(createEmbeddedStore({ path })).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
    await expect(stat(lockPathFor(path))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps an in-memory store (no path) free of any lock', async () => {
    const a = await createEmbeddedStore();
    const b = await createEmbeddedStore();
    await Promise.all([a.close(), b.close()]);
  });
});
