import { memoryRateCounter } from './rate-counter.js';
import { GatewayError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { importLegacyStateFile } from './legacy-state-import.js';
import { openDatabase, toStoreError, type SqliteDatabase } from './sqlite-database.js';
import type { SetOptions, Store } from './store.js';

export interface SqliteStoreOptions {
  /** The database file (created 0600 in a 0700 directory when missing). */
  path: string;
  /** A `state.json` of the JSON-file store of earlier releases: imported once, then renamed aside. */
  importFrom?: string | undefined;
  /** Clock in epoch milliseconds (tests pass their own). */
  now?: (() => number) | undefined;
  logger?: Logger | undefined;
  busyTimeoutMs?: number | undefined;
}

/*
 * Two seconds: commits here take milliseconds, so a longer wait means something holds the write
 * lock for real, and better-sqlite3 waits synchronously, stalling every request of the gateway.
 */
const DEFAULT_BUSY_TIMEOUT_MS = 2_000;
const SWEEP_INTERVAL_MS = 60_000;
/** Rows deleted per sweep transaction, so a large backlog of expired rows never holds the write lock long. */
const SWEEP_BATCH = 1_000;

export async function createSqliteStore({
  path,
  importFrom,
  now = Date.now,
  logger = silentLogger(),
  busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
}: SqliteStoreOptions): Promise<Store> {
  const db = await openDatabase(path, { busyTimeoutMs });
  try {
    if (importFrom !== undefined) await importLegacyStateFile(db, { from: importFrom, databasePath: path, now: now(), logger });
    return new SqliteStore(db, path, now, logger);
  } catch (err) {
    db.close();
    throw toStoreError(err, path);
  }
}

interface Operation {
  writes: boolean;
  run(): unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

type Row = { kind: 'value' | 'set'; value: string | null };

class SqliteStore implements Store {
  /** One process uses the file (the embedded store's lock): counting in memory is exact and costs no write per call. */
  readonly rates = memoryRateCounter();
  private closed = false;
  private closing: Promise<void> | undefined;
  private queue: Operation[] = [];
  private drained: Promise<void> | undefined;
  private readonly sweeper: NodeJS.Timeout;
  private readonly sql;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly path: string,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {
    const live = '(expires_at IS NULL OR expires_at > @now)';
    this.sql = {
      entry: db.prepare<{ key: string; now: number }, Row>(`SELECT kind, value FROM entries WHERE key = @key AND ${live}`),
      dropIfExpired: db.prepare<{ key: string; now: number }>('DELETE FROM entries WHERE key = @key AND expires_at <= @now'),
      delete: db.prepare<{ key: string }>('DELETE FROM entries WHERE key = @key'),
      putValue: db.prepare<{ key: string; value: string; expiresAt: number | null }>(
        "INSERT INTO entries (key, kind, value, expires_at) VALUES (@key, 'value', @value, @expiresAt) ON CONFLICT (key) DO UPDATE SET kind = 'value', value = excluded.value, expires_at = excluded.expires_at",
      ),
      addValue: db.prepare<{ key: string; value: string; expiresAt: number | null }>(
        "INSERT INTO entries (key, kind, value, expires_at) VALUES (@key, 'value', @value, @expiresAt) ON CONFLICT (key) DO NOTHING",
      ),
      // Like SADD + PEXPIRE: a TTL given now replaces the old one; no TTL keeps the old one.
      putSet: db.prepare<{ key: string; expiresAt: number | null }>(
        "INSERT INTO entries (key, kind, value, expires_at) VALUES (@key, 'set', NULL, @expiresAt) ON CONFLICT (key) DO UPDATE SET expires_at = coalesce(excluded.expires_at, entries.expires_at)",
      ),
      clearMembers: db.prepare<{ key: string }>('DELETE FROM set_members WHERE key = @key'),
      addMember: db.prepare<{ key: string; member: string }>('INSERT OR IGNORE INTO set_members (key, member) VALUES (@key, @member)'),
      removeMember: db.prepare<{ key: string; member: string }>('DELETE FROM set_members WHERE key = @key AND member = @member'),
      members: db.prepare<{ key: string }, { member: string }>('SELECT member FROM set_members WHERE key = @key'),
      anyMember: db.prepare<{ key: string }, { one: number }>('SELECT 1 AS one FROM set_members WHERE key = @key LIMIT 1'),
      // Range reads on the primary key: the bound is computed so that no glob or LIKE character means anything.
      keysFrom: db.prepare<{ from: string; now: number }, { key: string }>(`SELECT key FROM entries WHERE key >= @from AND ${live}`),
      keysBetween: db.prepare<{ from: string; to: string; now: number }, { key: string }>(
        `SELECT key FROM entries WHERE key >= @from AND key < @to AND ${live}`,
      ),
      // `expires_at <= @now` implies the partial index's `expires_at IS NOT NULL`, so this reads the index, not the table.
      sweep: db.prepare<{ now: number; limit: number }>('DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries WHERE expires_at <= @now LIMIT @limit)'),
      ping: db.prepare('SELECT 1'),
    };
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
    void this.sweep();
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    return this.read(() => {
      const row = this.sql.entry.get({ key, now: this.now() });
      return row === undefined ? undefined : (JSON.parse(storedValue(row, key)) as T);
    });
  }

  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    const json = encodeValue(value);
    const expiresAt = this.expiryOf(options);
    return this.write(() => {
      this.sql.clearMembers.run({ key });
      this.sql.putValue.run({ key, value: json, expiresAt });
    });
  }

  async setIfAbsent(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    const json = encodeValue(value);
    const expiresAt = this.expiryOf(options);
    return this.write(() => {
      this.sql.dropIfExpired.run({ key, now: this.now() });
      return this.sql.addValue.run({ key, value: json, expiresAt }).changes === 1;
    });
  }

  async take<T = unknown>(key: string): Promise<T | undefined> {
    return this.write(() => {
      const row = this.sql.entry.get({ key, now: this.now() });
      if (row === undefined) return undefined;
      const json = storedValue(row, key);
      this.sql.delete.run({ key });
      return JSON.parse(json) as T;
    });
  }

  async delete(key: string): Promise<boolean> {
    return this.write(() => {
      const live = this.sql.entry.get({ key, now: this.now() }) !== undefined;
      this.sql.delete.run({ key });
      return live;
    });
  }

  async keys(prefix: string): Promise<string[]> {
    return this.read(() => {
      const now = this.now();
      const to = prefixUpperBound(prefix);
      const rows = to === undefined ? this.sql.keysFrom.all({ from: prefix, now }) : this.sql.keysBetween.all({ from: prefix, to, now });
      return rows.map((row) => row.key);
    });
  }

  async addToSet(key: string, member: string, options?: SetOptions): Promise<void> {
    const expiresAt = this.expiryOf(options);
    return this.write(() => {
      const now = this.now();
      this.sql.dropIfExpired.run({ key, now });
      const row = this.sql.entry.get({ key, now });
      if (row !== undefined) assertSet(row, key);
      this.sql.putSet.run({ key, expiresAt });
      this.sql.addMember.run({ key, member });
    });
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    return this.write(() => {
      const row = this.sql.entry.get({ key, now: this.now() });
      if (row === undefined) return;
      assertSet(row, key);
      if (this.sql.removeMember.run({ key, member }).changes === 0) return;
      // Redis drops a set with its last member; mirror it so keys() agrees across implementations.
      if (this.sql.anyMember.get({ key }) === undefined) this.sql.delete.run({ key });
    });
  }

  async setMembers(key: string): Promise<string[]> {
    return this.read(() => {
      const row = this.sql.entry.get({ key, now: this.now() });
      if (row === undefined) return [];
      assertSet(row, key);
      return this.sql.members.all({ key }).map((r) => r.member);
    });
  }

  async ping(): Promise<void> {
    await this.read(() => this.sql.ping.get());
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    // What was accepted before close still runs (and commits) before the file is closed.
    while (this.drained !== undefined) await this.drained;
    // The last connection to close checkpoints the WAL into the database and removes -wal and -shm.
    this.db.close();
  }

  private read<T>(run: () => T): Promise<T> {
    return this.enqueue(false, run);
  }

  private write<T>(run: () => T): Promise<T> {
    return this.enqueue(true, run);
  }

  /**
   * Every operation goes through one queue, drained once per event-loop tick in one transaction:
   * operations run in the order they were called (as Redis runs a connection's commands), each
   * one's reads and writes are atomic (of 50 concurrent `take`s one gets the value, also against
   * other processes, because a batch that writes starts with BEGIN IMMEDIATE), and a burst of
   * writes costs one fsync. A promise resolves only after the commit, so nothing is acknowledged
   * that is not on disk. Operations check their arguments and the kind of entry before they write
   * anything, so one that throws leaves nothing half-done; a SQLite error aborts the whole batch.
   */
  private enqueue<T>(writes: boolean, run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new GatewayError('ERR_STORE_UNREACHABLE', `the embedded store (${this.path}) is closed`));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ writes, run, resolve: resolve as (value: unknown) => void, reject });
      this.drained ??= new Promise<void>((done) =>
        setImmediate(() => {
          this.drain();
          this.drained = undefined;
          done();
        }),
      );
    });
  }

  private drain(): void {
    const batch = this.queue;
    this.queue = [];
    const results: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    const runAll = this.db.transaction(() => {
      for (const op of batch) {
        try {
          results.push({ ok: true, value: op.run() });
        } catch (err) {
          if (err instanceof Error && err.name === 'SqliteError') throw err;
          results.push({ ok: false, err });
        }
      }
    });
    try {
      if (batch.some((op) => op.writes)) runAll.immediate();
      else runAll.deferred();
    } catch (err) {
      const failure = toStoreError(err, this.path);
      for (const op of batch) op.reject(failure);
      return;
    }
    batch.forEach((op, i) => {
      const result = results[i]!;
      if (result.ok) op.resolve(result.value);
      else op.reject(result.err);
    });
  }

  /** Deletes expired rows through the expiry index, a batch per transaction; reads already ignore them. */
  private async sweep(): Promise<void> {
    try {
      let deleted = SWEEP_BATCH;
      while (deleted === SWEEP_BATCH && !this.closed) {
        deleted = await this.write(() => this.sql.sweep.run({ now: this.now(), limit: SWEEP_BATCH }).changes);
      }
    } catch (err) {
      if (!this.closed) this.logger.warn({ err, path: this.path }, 'could not delete expired entries from the embedded store; retrying later');
    }
  }

  private expiryOf(options: SetOptions | undefined): number | null {
    const ttlMs = options?.ttlMs;
    if (ttlMs === undefined) return null;
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new TypeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
    return this.now() + Math.ceil(ttlMs);
  }
}

/**
 * The smallest string above every string that starts with `prefix`, in SQLite's BINARY order
 * (UTF-8 bytes, which is code point order): the last code point plus one. Undefined when there
 * is none (an empty prefix, or one of U+10FFFF only).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1; // surrogates are not characters
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

function storedValue(row: Row, key: string): string {
  if (row.kind !== 'value' || row.value === null) throw new TypeError(`store key ${JSON.stringify(key)} holds a set, not a value`);
  return row.value;
}

function assertSet(row: Row, key: string): void {
  if (row.kind !== 'set') throw new TypeError(`store key ${JSON.stringify(key)} holds a value, not a set`);
}

function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('store values must be JSON-serialisable');
  return json;
}
