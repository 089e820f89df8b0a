import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEmbeddedStore } from '../runtime/store/embedded-store.js';
import { createRedisStore } from '../runtime/store/redis-store.js';
import { createSqliteStore } from '../runtime/store/sqlite-store.js';
import type { Store } from '../runtime/store/store.js';
import { freePort } from './helpers/free-port.js';
import { startRedis } from './helpers/redis-server.js';

interface Harness {
  store: Store;
  /** A TTL the test can wait out. */
  ttlMs: number;
  /** Lets `ms` pass for the store: moves the injected clock (embedded) or really waits (Redis). */
  elapse(ms: number): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mcpgw-store-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const redis = await startRedis();
if ('skip' in redis) console.warn(`skipping the Redis store tests: ${redis.skip}`);
afterAll(async () => {
  if ('stop' in redis) await redis.stop();
});

function fakeClock(start = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

async function memoryHarness(): Promise<Harness> {
  const clock = fakeClock();
  const store = await createEmbeddedStore({ now: clock.now });
  cleanups.push(() => store.close());
  return { store, ttlMs: 1_000, elapse: async (ms) => clock.advance(ms) };
}

async function sqliteHarness(): Promise<Harness> {
  const clock = fakeClock();
  const store = await createSqliteStore({ path: join(tmp, randomUUID(), 'store.sqlite'), now: clock.now });
  cleanups.push(() => store.close());
  return { store, ttlMs: 1_000, elapse: async (ms) => clock.advance(ms) };
}

async function openRedis(url: string, keyPrefix: string): Promise<Store> {
  const store = await createRedisStore({ url, keyPrefix, connectTimeoutMs: 2_000 });
  cleanups.push(async () => {
    // A shared REDIS_URL outlives the suite: leave nothing behind under this prefix.
    const sweeper = await createRedisStore({ url, keyPrefix, connectTimeoutMs: 2_000 });
    for (const key of await sweeper.keys('')) await sweeper.delete(key);
    await sweeper.close();
    await store.close();
  });
  return store;
}

function uniquePrefix(): string {
  return `mcpgw-test:${randomUUID()}:`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function describeStoreContract(name: string, factory: () => Promise<Harness>, options: { skip?: boolean } = {}): void {
  (options.skip ? describe.skip : describe)(`${name} (Store contract)`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await factory();
    });

    it('round-trips nested JSON through set and get', async () => {
      const value = { sub: 'alice', scopes: ['mcp', 'profile'], meta: { n: 1, ok: true, none: null, text: 'ünïcode ✓' } };
      await h.store.set('client:1', value);
      await h.store.set('nothing', null);
      expect(await h.store.get('client:1')).toEqual(value);
      expect(await h.store.get('nothing')).toBeNull();
    });

    it('returns a copy, so later changes to the original or the result do not leak into the store', async () => {
      const value = { list: [1] };
      await h.store.set('k', value);
      value.list.push(2);
      const read = await h.store.get<{ list: number[] }>('k');
      read?.list.push(3);
      expect(await h.store.get('k')).toEqual({ list: [1] });
    });

    it('returns undefined for a key that was never set', async () => {
      expect(await h.store.get('missing')).toBeUndefined();
      expect(await h.store.take('missing')).toBeUndefined();
    });

    it('deletes a key and reports whether anything was deleted', async () => {
      await h.store.set('k', 'v');
      expect(await h.store.delete('k')).toBe(true);
      expect(await h.store.get('k')).toBeUndefined();
      expect(await h.store.delete('k')).toBe(false);
    });

    it('rejects values that are not JSON and TTLs that are not positive', async () => {
      await expect(h.store.set('k', undefined)).rejects.toBeInstanceOf(TypeError);
      await expect(h.store.set('k', 'v', { ttlMs: 0 })).rejects.toBeInstanceOf(TypeError);
      await expect(h.store.setIfAbsent('k', 'v', { ttlMs: -5 })).rejects.toBeInstanceOf(TypeError);
      expect(await h.store.get('k')).toBeUndefined();
    });

    it('forgets an entry once its TTL has passed', async () => {
      await h.store.set('pending:1', { state: 'x' }, { ttlMs: h.ttlMs });
      expect(await h.store.get('pending:1')).toEqual({ state: 'x' });
      await h.elapse(h.ttlMs * 2);
      expect(await h.store.get('pending:1')).toBeUndefined();
      expect(await h.store.take('pending:1')).toBeUndefined();
      expect(await h.store.keys('pending:')).toEqual([]);
      expect(await h.store.delete('pending:1')).toBe(false);
    });

    it('drops the old TTL when a key is set again without one', async () => {
      await h.store.set('k', 1, { ttlMs: h.ttlMs });
      await h.store.set('k', 2);
      await h.elapse(h.ttlMs * 2);
      expect(await h.store.get('k')).toBe(2);
    });

    it('setIfAbsent sets once, refuses while the key exists and sets again after it expired', async () => {
      expect(await h.store.setIfAbsent('lock', 'first', { ttlMs: h.ttlMs })).toBe(true);
      expect(await h.store.setIfAbsent('lock', 'second', { ttlMs: h.ttlMs })).toBe(false);
      expect(await h.store.get('lock')).toBe('first');
      await h.elapse(h.ttlMs * 2);
      expect(await h.store.setIfAbsent('lock', 'third')).toBe(true);
      expect(await h.store.get('lock')).toBe('third');
    });

    it('setIfAbsent lets exactly one of 50 concurrent callers win', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => h.store.setIfAbsent('marker', i)));
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(await h.store.get('marker')).toBe(winners[0]);
    });

    it('take hands the value to exactly one of 50 concurrent callers and deletes it', async () => {
      await h.store.set('code:abc', { sub: 'alice', client: 'c1' });
      const results = await Promise.all(Array.from({ length: 50 }, () => h.store.take('code:abc')));
      expect(results.filter((r) => r !== undefined)).toEqual([{ sub: 'alice', client: 'c1' }]);
      expect(await h.store.get('code:abc')).toBeUndefined();
    });

    it('lists exactly the keys that start with a prefix, glob characters taken literally', async () => {
      const all = ['client:a', 'client:b', 'client:*x', 'client?y', 'client[z]', 'clientele', 'code:a', 'c*:1', 'c\\d'];
      for (const key of all) await h.store.set(key, key);
      await h.store.addToSet('client:set', 'member');
      const sorted = async (prefix: string): Promise<string[]> => (await h.store.keys(prefix)).sort();
      expect(await sorted('client:')).toEqual(['client:*x', 'client:a', 'client:b', 'client:set']);
      expect(await sorted('c*')).toEqual(['c*:1']);
      expect(await sorted('client?')).toEqual(['client?y']);
      expect(await sorted('client[')).toEqual(['client[z]']);
      expect(await sorted('c\\')).toEqual(['c\\d']);
      expect(await sorted('nope')).toEqual([]);
      expect(await sorted('')).toEqual([...all, 'client:set'].sort());
    });

    it('keeps set members unique, removes them, and drops the set with its last member', async () => {
      expect(await h.store.setMembers('tokens:alice')).toEqual([]);
      await h.store.addToSet('tokens:alice', 't1');
      await h.store.addToSet('tokens:alice', 't2');
      await h.store.addToSet('tokens:alice', 't1');
      expect((await h.store.setMembers('tokens:alice')).sort()).toEqual(['t1', 't2']);
      await h.store.removeFromSet('tokens:alice', 't1');
      await h.store.removeFromSet('tokens:alice', 'never-added');
      await h.store.removeFromSet('tokens:nobody', 't1');
      expect(await h.store.setMembers('tokens:alice')).toEqual(['t2']);
      await h.store.removeFromSet('tokens:alice', 't2');
      expect(await h.store.setMembers('tokens:alice')).toEqual([]);
      expect(await h.store.keys('tokens:')).toEqual([]);
    });

    it('expires a whole set when its TTL has passed', async () => {
      await h.store.addToSet('index', 'a', { ttlMs: h.ttlMs });
      await h.store.addToSet('index', 'b');
      expect((await h.store.setMembers('index')).sort()).toEqual(['a', 'b']);
      await h.elapse(h.ttlMs * 2);
      expect(await h.store.setMembers('index')).toEqual([]);
      await h.store.addToSet('index', 'c');
      expect(await h.store.setMembers('index')).toEqual(['c']);
    });

    it('answers ping while open, closes idempotently and is unreachable afterwards', async () => {
      await h.store.ping();
      await Promise.all([h.store.close(), h.store.close()]);
      await h.store.close();
      await expect(h.store.ping()).rejects.toMatchObject({ code: 'ERR_STORE_UNREACHABLE' });
      await expect(h.store.get('k')).rejects.toMatchObject({ code: 'ERR_STORE_UNREACHABLE' });
    });
  });
}

describeStoreContract('in-memory store', memoryHarness);
describeStoreContract('sqlite store (the embedded default)', sqliteHarness);
describeStoreContract(
  'redis store',
  async () => {
    if (!('url' in redis)) throw new Error('unreachable: the Redis suite is skipped');
    const store = await openRedis(redis.url, uniquePrefix());
    return { store, ttlMs: 150, elapse: sleep };
  },
  { skip: 'skip' in redis },
);

('skip' in redis ? describe.skip : describe)('redis store', () => {
  const url = 'url' in redis ? redis.url : '';

  it('rejects with ERR_STORE_UNREACHABLE within the timeout when nothing listens, without revealing the password', async () => {
    // A port nothing listens on: bound once to learn a free number, then released.
    const port = await freePort();
    const started = Date.now();
    const error = await createRedisStore({
      url: `redis://:url-secret-123@127.0.0.1:${port}/0`,
      password: 'option-secret-456',
      keyPrefix: uniquePrefix(),
      connectTimeoutMs: 300,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'ERR_STORE_UNREACHABLE' });
    const text = JSON.stringify({ message: (error as Error).message, hint: (error as { hint?: string }).hint });
    expect(text).not.toContain('url-secret-123');
    expect(text).not.toContain('option-secret-456');
    expect(text).toContain(`127.0.0.1:${port}`);
  });

  it('keeps stores with different key prefixes apart', async () => {
    const a = await openRedis(url, uniquePrefix());
    const b = await openRedis(url, uniquePrefix());
    await a.set('client:1', 'a');
    expect(await b.get('client:1')).toBeUndefined();
    expect(await b.keys('')).toEqual([]);
    expect(await a.keys('')).toEqual(['client:1']);
  });

  // Needs a server of its own to stop: a shared REDIS_URL must stay up for the other tests.
  it('reports ERR_STORE_UNREACHABLE from ping and commands once Redis goes away', async () => {
    const own = await startRedis({ private: true });
    if ('skip' in own) return void console.warn(`skipping: ${own.skip}`);
    cleanups.push(() => own.stop());
    const store = await createRedisStore({ url: own.url, keyPrefix: uniquePrefix(), connectTimeoutMs: 1_000 });
    cleanups.push(() => store.close());
    await store.ping();
    await own.stop();
    await vi.waitFor(() => expect(store.ping()).rejects.toMatchObject({ code: 'ERR_STORE_UNREACHABLE' }), { timeout: 2_000 });
    await expect(store.get('k')).rejects.toMatchObject({ code: 'ERR_STORE_UNREACHABLE' });
  });
});
