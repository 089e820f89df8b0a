import { memoryRateCounter } from './rate-counter.js';
import { GatewayError } from '../errors.js';
import type { SetOptions, Store } from './store.js';

/*
 * The in-memory store: the demo (which keeps nothing on disk) and tests that need no file. A
 * project's embedded store is SQLite (sqlite-store.ts); this Map passes the same contract suite.
 * It persisted to state.json in earlier releases; that file is now imported into the database
 * (legacy-state-import.ts).
 */

export interface EmbeddedStoreOptions {
  /** Clock in epoch milliseconds (tests pass their own). */
  now?: () => number;
}

const SWEEP_INTERVAL_MS = 60_000;

type Entry = { type: 'value'; json: string; expiresAt: number | undefined } | { type: 'set'; members: Set<string>; expiresAt: number | undefined };

export async function createEmbeddedStore({ now = Date.now }: EmbeddedStoreOptions = {}): Promise<Store> {
  return new EmbeddedStore(new Map(), now);
}

class EmbeddedStore implements Store {
  readonly rates = memoryRateCounter();
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly entries: Map<string, Entry>,
    private readonly now: () => number,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const entry = this.live(key);
    return entry === undefined ? undefined : (JSON.parse(storedValue(entry, key)) as T);
  }

  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    this.assertOpen();
    this.entries.set(key, { type: 'value', json: encodeValue(value), expiresAt: expiryOf(options, this.now()) });
  }

  async setIfAbsent(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    const json = encodeValue(value);
    const expiresAt = expiryOf(options, this.now());
    if (this.live(key) !== undefined) return false;
    this.entries.set(key, { type: 'value', json, expiresAt });
    return true;
  }

  // No await between the read and the delete, so of two concurrent callers exactly one sees the value.
  async take<T = unknown>(key: string): Promise<T | undefined> {
    const entry = this.live(key);
    if (entry === undefined) return undefined;
    const json = storedValue(entry, key);
    this.entries.delete(key);
    return JSON.parse(json) as T;
  }

  async delete(key: string): Promise<boolean> {
    if (this.live(key) === undefined) return false;
    this.entries.delete(key);
    return true;
  }

  async keys(prefix: string): Promise<string[]> {
    this.assertOpen();
    const at = this.now();
    return [...this.entries].filter(([key, entry]) => key.startsWith(prefix) && !isExpired(entry, at)).map(([key]) => key);
  }

  async addToSet(key: string, member: string, options?: SetOptions): Promise<void> {
    const ttlExpiry = expiryOf(options, this.now());
    const entry = this.live(key);
    if (entry === undefined) {
      this.entries.set(key, { type: 'set', members: new Set([member]), expiresAt: ttlExpiry });
    } else {
      setOf(entry, key).add(member);
      // Like SADD + PEXPIRE: a TTL given now replaces the old one; no TTL keeps the old one.
      if (ttlExpiry !== undefined) entry.expiresAt = ttlExpiry;
    }
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    const entry = this.live(key);
    if (entry === undefined) return;
    const members = setOf(entry, key);
    if (!members.delete(member)) return;
    // Redis drops a set with its last member; mirror it so keys() agrees across implementations.
    if (members.size === 0) this.entries.delete(key);
  }

  async setMembers(key: string): Promise<string[]> {
    const entry = this.live(key);
    return entry === undefined ? [] : [...setOf(entry, key)];
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
  }

  private assertOpen(): void {
    if (this.closed) throw new GatewayError('ERR_STORE_UNREACHABLE', 'the in-memory store is closed');
  }

  /** The entry under `key` unless it has expired (an expired one is dropped on the spot). */
  private live(key: string): Entry | undefined {
    this.assertOpen();
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (!isExpired(entry, this.now())) return entry;
    this.entries.delete(key);
    return undefined;
  }

  private sweep(): void {
    const at = this.now();
    for (const [key, entry] of this.entries) {
      if (isExpired(entry, at)) this.entries.delete(key);
    }
  }
}

function isExpired(entry: Entry, at: number): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt <= at;
}

function storedValue(entry: Entry, key: string): string {
  if (entry.type !== 'value') throw new TypeError(`store key ${JSON.stringify(key)} holds a set, not a value`);
  return entry.json;
}

function setOf(entry: Entry, key: string): Set<string> {
  if (entry.type !== 'set') throw new TypeError(`store key ${JSON.stringify(key)} holds a value, not a set`);
  return entry.members;
}

function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('store values must be JSON-serialisable');
  return json;
}

function expiryOf(options: SetOptions | undefined, at: number): number | undefined {
  const ttlMs = options?.ttlMs;
  if (ttlMs === undefined) return undefined;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new TypeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
  return at + Math.ceil(ttlMs);
}
