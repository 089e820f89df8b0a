import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRedisStore } from '../../runtime/store/redis-store.js';
import { createSqliteStore } from '../../runtime/store/sqlite-store.js';
import type { Store } from '../../runtime/store/store.js';

/** A clock the test moves: tokens expire without waiting. Starts at the real time, so Redis TTLs stay meaningful. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

/** One store the vault runs on, as the gateway makes it, plus what the tests need to look inside. */
export interface VaultStore {
  store: Store;
  /** Another handle on the same data, as a second gateway process has (Redis: a second connection). */
  secondHandle(): Promise<Store>;
  /** Every byte the store holds for this test, keys included: the raw database file, or every Redis value. */
  rawContents(): Promise<string>;
  close(): Promise<void>;
}

/** The embedded store of a project: SQLite in a file; the clock is the vault's, so TTLs move with it. */
export async function sqliteVaultStore(dir: string, clock: TestClock): Promise<VaultStore> {
  const path = join(dir, randomUUID(), 'store.sqlite');
  const store = await createSqliteStore({ path, now: clock.now });
  return {
    store,
    // One process owns an embedded store: a second vault shares the handle, not the file.
    secondHandle: async () => store,
    async rawContents() {
      const parts = await Promise.all(['', '-wal', '-shm'].map((suffix) => readFile(path + suffix).catch(() => Buffer.alloc(0))));
      return Buffer.concat(parts).toString('latin1');
    },
    close: () => store.close(),
  };
}

export async function redisVaultStore(url: string): Promise<VaultStore> {
  const keyPrefix = `mcpgw-test:vault:${randomUUID()}:`;
  const handles: Store[] = [];
  const open = async (): Promise<Store> => {
    const store = await createRedisStore({ url, keyPrefix, connectTimeoutMs: 2_000 });
    handles.push(store);
    return store;
  };
  const raw = new Redis(url, { lazyConnect: true });
  await raw.connect();
  const allKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await raw.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  };
  return {
    store: await open(),
    secondHandle: open,
    async rawContents() {
      const out: string[] = [];
      for (const key of await allKeys()) {
        const type = await raw.type(key);
        out.push(key, type === 'set' ? (await raw.smembers(key)).join('\n') : type === 'string' ? ((await raw.get(key)) ?? '') : `<${type}>`);
      }
      return out.join('\n');
    },
    async close() {
      // A shared REDIS_URL outlives the suite: leave nothing behind under this prefix.
      for (const key of await allKeys()) await raw.del(key);
      raw.disconnect();
      for (const store of handles) await store.close();
    },
  };
}
