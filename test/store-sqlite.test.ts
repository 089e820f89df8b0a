import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { projectPaths } from '../runtime/config/project-paths.js';
import { silentLogger } from '../runtime/logger.js';
import { createStore } from '../runtime/store/create-store.js';
import { embeddedStoreFiles } from '../runtime/config/store-files.js';
import { createSqliteStore, prefixUpperBound } from '../runtime/store/sqlite-store.js';
import type { Store } from '../runtime/store/store.js';

/* The SQLite embedded store as a file: what the contract suite cannot see (disk, modes, other processes' connections, expiry sweeps). */

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mcpgw-sqlite-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function fakeClock(start = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

const databasePath = (): string => join(tmp, randomUUID(), 'state', 'store.sqlite');

async function open(path: string, now: () => number = Date.now): Promise<Store> {
  const store = await createSqliteStore({ path, now });
  cleanups.push(() => store.close());
  return store;
}

/** A raw connection, as another process would have (read-only: it must not change what it checks). */
function raw(path: string): Database.Database {
  const db = new Database(path, { readonly: true });
  cleanups.push(async () => void db.close());
  return db;
}

describe('sqlite store file', () => {
  it('keeps values, sets and TTLs across close and reopen of the same file', async () => {
    const path = databasePath();
    const clock = fakeClock();
    const first = await open(path, clock.now);
    await first.set('client:1', { name: 'Claude', redirectUris: ['https://claude.ai/api/mcp/auth_callback'] });
    await first.set('code:1', 'short-lived', { ttlMs: 1_000 });
    await first.addToSet('tokens:alice', 'rt1', { ttlMs: 5_000 });
    await first.close();

    const second = await open(path, clock.now);
    expect(await second.get('client:1')).toEqual({ name: 'Claude', redirectUris: ['https://claude.ai/api/mcp/auth_callback'] });
    expect(await second.get('code:1')).toBe('short-lived');
    expect(await second.setMembers('tokens:alice')).toEqual(['rt1']);
    clock.advance(1_000);
    expect(await second.get('code:1')).toBeUndefined();
    expect(await second.setMembers('tokens:alice')).toEqual(['rt1']);
    clock.advance(4_000);
    expect(await second.setMembers('tokens:alice')).toEqual([]);
  });

  it('expires an entry exactly when its TTL has passed on the injected clock', async () => {
    const clock = fakeClock();
    const store = await open(databasePath(), clock.now);
    await store.set('k', 'v', { ttlMs: 1_000 });
    clock.advance(999);
    expect(await store.get('k')).toBe('v');
    clock.advance(1);
    expect(await store.get('k')).toBeUndefined();
  });

  it('creates the database and its -wal and -shm files with mode 0600 in a 0700 directory, in WAL mode', async () => {
    const path = databasePath();
    const store = await open(path);
    await store.set('secret', 'refresh-token-hash');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect((await stat(file)).mode & 0o777, file).toBe(0o600);
    expect((await stat(dirname(path))).mode & 0o777).toBe(0o700);
    expect(raw(path).pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('tightens a database file that was copied in with mode 0644', async () => {
    const path = databasePath();
    await (await open(path)).close();
    const { chmod } = await import('node:fs/promises');
    await chmod(path, 0o644);
    await open(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('has every write committed by the time its promise resolves: another connection reads it while the store is still open', async () => {
    const path = databasePath();
    const store = await open(path);
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => store.set(`client:${i}`, { i, name: `client ${i}` })));
    const other = raw(path);
    expect(other.prepare('SELECT count(*) AS n FROM entries').get()).toEqual({ n: 1_000 });
    expect(JSON.parse((other.prepare("SELECT value FROM entries WHERE key = 'client:999'").get() as { value: string }).value)).toEqual({
      i: 999,
      name: 'client 999',
    });
  });

  it("shares one file between two open stores (serve and an admin command): each sees the other's writes, and take stays exclusive", async () => {
    const path = databasePath();
    const gateway = await open(path);
    const admin = await open(path);
    await gateway.set('client:1', 'registered by the gateway');
    expect(await admin.get('client:1')).toBe('registered by the gateway');
    expect(await admin.delete('client:1')).toBe(true);
    expect(await gateway.get('client:1')).toBeUndefined();

    await gateway.set('code:abc', { sub: 'alice' });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? gateway : admin).take('code:abc')));
    expect(results.filter((r) => r !== undefined)).toEqual([{ sub: 'alice' }]);
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? gateway : admin).setIfAbsent('marker', i)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('does not resurrect entries that expired while the store was closed, and the sweep at open deletes them', async () => {
    const path = databasePath();
    const clock = fakeClock();
    const first = await open(path, clock.now);
    await first.set('code:1', 'once', { ttlMs: 1_000 });
    await first.addToSet('index:1', 'member', { ttlMs: 1_000 });
    await first.set('client:1', 'kept');
    await first.close();

    clock.advance(1_000);
    const second = await open(path, clock.now);
    expect(await second.get('code:1')).toBeUndefined();
    expect(await second.keys('')).toEqual(['client:1']);
    await second.ping(); // the sweep queued at open has run by now
    const db = raw(path);
    expect(db.prepare('SELECT key FROM entries').all()).toEqual([{ key: 'client:1' }]);
    expect(db.prepare('SELECT count(*) AS n FROM set_members').get()).toEqual({ n: 0 });
  });

  it('finds expired rows through the expires_at index, not by scanning the table', async () => {
    const path = databasePath();
    await open(path);
    const plan = raw(path).prepare('EXPLAIN QUERY PLAN SELECT rowid FROM entries WHERE expires_at <= ? LIMIT 1000').all(Date.now()) as Array<{
      detail: string;
    }>;
    expect(plan.map((row) => row.detail).join('\n')).toMatch(/USING (COVERING )?INDEX entries_by_expiry/);
  });

  it('refuses a file that is not a SQLite database with ERR_STORE_CORRUPT and a hint', async () => {
    const path = databasePath();
    await (await open(path)).close();
    await writeFile(path, '{"version":1,"entries":{}}'.padEnd(4096, ' '));
    await expect(createSqliteStore({ path })).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT', hint: expect.stringMatching(/\.broken/) });
  });

  it('is unreachable once closed, and close waits for what was already called', async () => {
    const path = databasePath();
    const store = await createSqliteStore({ path });
    const pending = store.set('k', 'v');
    await store.close();
    await pending;
    expect(raw(path).prepare("SELECT value FROM entries WHERE key = 'k'").get()).toEqual({ value: '"v"' });
    await expect(store.set('k', 'w')).rejects.toMatchObject({ code: 'ERR_STORE_UNREACHABLE' });
  });
});

describe('embedded store paths', () => {
  it('puts the default database at .mcp-gateway/store.sqlite under the project directory', async () => {
    const paths = projectPaths(join(tmp, randomUUID()));
    const store = await createStore({ type: 'embedded', path: '.mcp-gateway/store.sqlite' }, paths, { logger: silentLogger() });
    cleanups.push(() => store.close());
    await store.set('k', 'v');
    expect(raw(join(paths.stateDir, 'store.sqlite')).prepare('SELECT key FROM entries').all()).toEqual([{ key: 'k' }]);
  });

  it('reads a .json path of an earlier release as "import this file into a database beside it"', () => {
    const paths = projectPaths('/srv/gw');
    expect(embeddedStoreFiles({ path: '.mcp-gateway/state.json' }, paths)).toEqual({
      database: '/srv/gw/.mcp-gateway/state.sqlite',
      legacyStateFile: '/srv/gw/.mcp-gateway/state.json',
    });
    expect(embeddedStoreFiles({ path: '.mcp-gateway/store.sqlite' }, paths)).toEqual({
      database: '/srv/gw/.mcp-gateway/store.sqlite',
      legacyStateFile: '/srv/gw/.mcp-gateway/state.json',
    });
    expect(embeddedStoreFiles({ path: '/var/lib/gw/db.sqlite' }, paths)).toEqual({ database: '/var/lib/gw/db.sqlite', legacyStateFile: undefined });
  });
});

describe('prefixUpperBound', () => {
  it('is just above every string that starts with the prefix, including astral characters', () => {
    expect(prefixUpperBound('client:')).toBe('client;');
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('\u{10ffff}')).toBeUndefined();
    expect(prefixUpperBound('x\ud7ff')).toBe('x\ue000');
    const bound = prefixUpperBound('k😀')!;
    for (const key of ['k😀', 'k😀\u{10ffff}zz', 'k😀😀']) expect(Buffer.compare(Buffer.from(key), Buffer.from(bound))).toBe(-1);
    expect(Buffer.compare(Buffer.from('k😁'), Buffer.from(bound))).toBe(0);
  });
});
