import { readFile } from 'node:fs/promises';
import { GatewayError } from '../errors.js';
import { atomicWriteFile } from '../fs/atomic-write.js';
import { silentLogger, type Logger } from '../logger.js';
import { acquireStoreLock, type StoreLock } from './store-lock.js';
import type { SetOptions, Store } from './store.js';

/*
 * Hand-written on purpose: no well-kept npm package is a tiny TTL key-value store with an atomic
 * take that persists to one 0600 file without a native addon (the SQLite/LMDB ones need a
 * compiled binding; the TTL caches keep nothing across a restart). A Map plus one JSON file is
 * enough for one gateway process; deployments that need more use Redis.
 */

export interface EmbeddedStoreOptions {
  /** JSON file the state is persisted to; without it the store lives in memory only. Locked (`<path>.lock`) while open. */
  path?: string;
  /** Clock in epoch milliseconds (tests pass their own). */
  now?: () => number;
  logger?: Logger;
}

const FILE_VERSION = 1;
const SWEEP_INTERVAL_MS = 60_000;
/** The state holds refresh tokens and client secrets: owner-only, like .secrets/. */
const WRITE_MODES = { mode: 0o600, dirMode: 0o700 } as const;

type Entry =
  | { type: 'value'; json: string; expiresAt: number | undefined }
  | { type: 'set'; members: Set<string>; expiresAt: number | undefined };

export async function createEmbeddedStore({ path, now = Date.now, logger = silentLogger() }: EmbeddedStoreOptions = {}): Promise<Store> {
  if (path === undefined) return new EmbeddedStore(new Map(), undefined, now, logger, undefined);
  // Locked before reading: a second process must not load the file and then write it over.
  const lock = await acquireStoreLock(path);
  try {
    return new EmbeddedStore(await loadEntries(path, now()), path, now, logger, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

class EmbeddedStore implements Store {
  private closed = false;
  private closing: Promise<void> | undefined;
  /** A change not yet on disk; with `flushing` this is the "one in flight plus one queued" of the write coalescing. */
  private dirty = false;
  private flushing: Promise<void> | undefined;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly entries: Map<string, Entry>,
    private readonly path: string | undefined,
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly lock: StoreLock | undefined,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const entry = this.live(key);
    return entry === undefined ? undefined : (JSON.parse(valueOf(entry, key)) as T);
  }

  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    this.assertOpen();
    this.entries.set(key, { type: 'value', json: encodeValue(value), expiresAt: expiryOf(options, this.now()) });
    this.changed();
  }

  async setIfAbsent(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    const json = encodeValue(value);
    const expiresAt = expiryOf(options, this.now());
    if (this.live(key) !== undefined) return false;
    this.entries.set(key, { type: 'value', json, expiresAt });
    this.changed();
    return true;
  }

  // No await between the read and the delete, so of two concurrent callers exactly one sees the value.
  async take<T = unknown>(key: string): Promise<T | undefined> {
    const entry = this.live(key);
    if (entry === undefined) return undefined;
    const json = valueOf(entry, key);
    this.entries.delete(key);
    this.changed();
    return JSON.parse(json) as T;
  }

  async delete(key: string): Promise<boolean> {
    if (this.live(key) === undefined) return false;
    this.entries.delete(key);
    this.changed();
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
    this.changed();
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    const entry = this.live(key);
    if (entry === undefined) return;
    const members = setOf(entry, key);
    if (!members.delete(member)) return;
    // Redis drops a set with its last member; mirror it so keys() agrees across implementations.
    if (members.size === 0) this.entries.delete(key);
    this.changed();
  }

  async setMembers(key: string): Promise<string[]> {
    const entry = this.live(key);
    return entry === undefined ? [] : [...setOf(entry, key)];
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    await this.flushing;
    try {
      // The loop logs and keeps `dirty` on failure; here the caller hears about it.
      if (this.dirty && this.path !== undefined) {
        this.dirty = false;
        await atomicWriteFile(this.path, encodeFile(this.entries, this.now()), WRITE_MODES);
      }
    } finally {
      await this.lock?.release();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new GatewayError('ERR_STORE_UNREACHABLE', 'the embedded store is closed');
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

  private changed(): void {
    if (this.path === undefined) return;
    this.dirty = true;
    this.flushing ??= this.flushLoop(this.path);
  }

  private async flushLoop(path: string): Promise<void> {
    try {
      // Let a burst of mutations made in the same tick land in one write.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.dirty) {
        this.dirty = false;
        await atomicWriteFile(path, encodeFile(this.entries, this.now()), WRITE_MODES);
      }
    } catch (err) {
      this.dirty = true;
      this.logger.error({ err, path }, 'cannot write the embedded store file; retrying on the next change');
    } finally {
      this.flushing = undefined;
    }
  }
}

function isExpired(entry: Entry, at: number): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt <= at;
}

function valueOf(entry: Entry, key: string): string {
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

/** `{version, entries: {key: {type, value | members, expiresAt?}}}`, one entry a line; expired entries are left out. */
function encodeFile(entries: ReadonlyMap<string, Entry>, at: number): string {
  const lines: string[] = [];
  for (const [key, entry] of entries) {
    if (isExpired(entry, at)) continue;
    const body = entry.type === 'value' ? `"type":"value","value":${entry.json}` : `"type":"set","members":${JSON.stringify([...entry.members])}`;
    const expiry = entry.expiresAt === undefined ? '' : `,"expiresAt":${entry.expiresAt}`;
    lines.push(`${JSON.stringify(key)}:{${body}${expiry}}`);
  }
  return `{"version":${FILE_VERSION},"entries":{\n${lines.join(',\n')}\n}}\n`;
}

async function loadEntries(path: string, at: number): Promise<Map<string, Entry>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new GatewayError('ERR_STORE_CORRUPT', `cannot read the state file ${path}: ${(err as Error).message}`, {
      hint: `make ${path} a regular file readable and writable by the user running the gateway, or remove it to start with empty state`,
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw corrupt(path, 'it is not valid JSON', err);
  }
  return decodeFile(parsed, path, at);
}

function decodeFile(parsed: unknown, path: string, at: number): Map<string, Entry> {
  if (!isRecord(parsed) || !isRecord(parsed['entries'])) throw corrupt(path, 'it is not a state file');
  if (parsed['version'] !== FILE_VERSION) throw corrupt(path, `its format version ${JSON.stringify(parsed['version'])} is not ${FILE_VERSION}`);
  const entries = new Map<string, Entry>();
  for (const [key, raw] of Object.entries(parsed['entries'])) {
    const entry = decodeEntry(raw);
    if (entry === undefined) throw corrupt(path, `its entry ${JSON.stringify(key)} is malformed`);
    if (!isExpired(entry, at)) entries.set(key, entry);
  }
  return entries;
}

function decodeEntry(raw: unknown): Entry | undefined {
  if (!isRecord(raw)) return undefined;
  const expiresAt = raw['expiresAt'];
  if (expiresAt !== undefined && !Number.isFinite(expiresAt)) return undefined;
  const expiry = expiresAt as number | undefined;
  if (raw['type'] === 'value' && 'value' in raw) return { type: 'value', json: JSON.stringify(raw['value']), expiresAt: expiry };
  const members = raw['members'];
  if (raw['type'] === 'set' && Array.isArray(members) && members.every((m) => typeof m === 'string')) {
    return { type: 'set', members: new Set(members), expiresAt: expiry };
  }
  return undefined;
}

function corrupt(path: string, why: string, cause?: unknown): GatewayError {
  return new GatewayError('ERR_STORE_CORRUPT', `the state file ${path} is corrupt: ${why}`, {
    hint: `move it aside (mv ${path} ${path}.broken) and start again: the gateway begins with empty state, so clients register and users log in again`,
    cause,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
