import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireGatewayLock, gatewayLockPath, runningGateway } from '../runtime/store/gateway-lock.js';
import { createSqliteStore } from '../runtime/store/sqlite-store.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mcpgw-lock-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const databasePath = (): string => join(tmp, randomUUID(), 'store.sqlite');

describe('gateway lock', () => {
  it('holds <database>.gateway.lock (0600, this pid) while held and removes it on release', async () => {
    const path = databasePath();
    const lock = await acquireGatewayLock(path);
    expect((await stat(gatewayLockPath(path))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(gatewayLockPath(path), 'utf8'))).toMatchObject({ pid: process.pid });
    expect(await runningGateway(path)).toMatchObject({ pid: process.pid });
    await lock.release();
    await expect(stat(gatewayLockPath(path))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await runningGateway(path)).toBeUndefined();
  });

  it('refuses a second gateway with ERR_STORE_LOCKED naming the first', async () => {
    const path = databasePath();
    const first = await acquireGatewayLock(path);
    await expect(acquireGatewayLock(path)).rejects.toMatchObject({
      code: 'ERR_STORE_LOCKED',
      message: expect.stringContaining(`in use by process ${process.pid}`),
    });
    await first.release();
    await (await acquireGatewayLock(path)).release();
  });

  it('takes over a lock whose process is gone, and one that holds no pid', async () => {
    const path = databasePath();
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.on('exit', resolve));
    await (await acquireGatewayLock(path)).release();
    await writeFile(gatewayLockPath(path), JSON.stringify({ pid: dead.pid }));
    expect(await runningGateway(path)).toBeUndefined();
    const lock = await acquireGatewayLock(path);
    expect(await runningGateway(path)).toMatchObject({ pid: process.pid });
    await lock.release();
    await writeFile(gatewayLockPath(path), 'garbage');
    await (await acquireGatewayLock(path)).release();
  });

  it('is never taken by opening the store: any number of stores (admin commands) share the database without looking like a gateway', async () => {
    const path = databasePath();
    const stores = await Promise.all(Array.from({ length: 4 }, () => createSqliteStore({ path })));
    await Promise.all(stores.map((store, i) => store.set(`client:${i}`, i)));
    expect(await runningGateway(path)).toBeUndefined();
    await expect(stat(gatewayLockPath(path))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stores[0]!.keys('client:')).sort()).toEqual(['client:0', 'client:1', 'client:2', 'client:3']);
    await Promise.all(stores.map((store) => store.close()));
  });
});
