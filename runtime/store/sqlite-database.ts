import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { GatewayError } from '../errors.js';

/**
 * Opening the embedded store's SQLite file: owner-only mode, WAL, the durability setting, the
 * schema. Several processes may open it at once (`serve` plus admin commands): WAL lets readers
 * run beside the one writer, and writers queue on the busy timeout.
 */
export type SqliteDatabase = Database.Database;

/**
 * The schema version in `PRAGMA user_version`. `entries` holds every key; a set's members live in
 * `set_members` and go with their entry (ON DELETE CASCADE), so expiring a set is one row delete.
 * `expires_at` is epoch milliseconds, NULL for "never"; the partial index makes "what has expired"
 * a range read instead of a scan of everything. `meta` records one-off facts (the legacy import).
 */
const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  key TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('value', 'set')),
  value TEXT,
  expires_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS set_members (
  key TEXT NOT NULL REFERENCES entries (key) ON DELETE CASCADE,
  member TEXT NOT NULL,
  PRIMARY KEY (key, member)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
`;

export interface OpenDatabaseOptions {
  /** How long a write waits for another process's write transaction before failing (ms). */
  busyTimeoutMs: number;
}

export async function openDatabase(path: string, { busyTimeoutMs }: OpenDatabaseOptions): Promise<SqliteDatabase> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // The file holds refresh-token hashes and client secrets. SQLite would create it with the
  // umask's mode; created here first it is 0600 from its first byte, and SQLite gives the -wal
  // and -shm files the mode of the database file. chmod tightens a file copied in with 0644.
  await (await open(path, 'a', 0o600)).close();
  await chmod(path, 0o600);
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
    if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') {
      throw new GatewayError('ERR_STORE_UNREACHABLE', `the database ${path} cannot use write-ahead logging`, {
        hint: 'put store.path on a local file system (WAL needs shared memory, which network file systems lack)',
      });
    }
    /*
     * FULL, not NORMAL: in WAL mode NORMAL already survives a kill -9 of the process (a commit is in
     * the OS's page cache before it returns), but a power loss or kernel panic can drop the last
     * commits, and then a rotated-away refresh token would be valid again and the new one gone.
     * FULL fsyncs the WAL on every commit; the store batches the operations of one event-loop tick
     * into one transaction, so under load that is one fsync per tick, not per request.
     */
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrateSchema(db, path);
    return db;
  } catch (err) {
    db?.close();
    throw toStoreError(err, path);
  }
}

function migrateSchema(db: SqliteDatabase, path: string): void {
  // IMMEDIATE: two processes opening a fresh file at once must not both try to create the schema.
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new GatewayError('ERR_STORE_CORRUPT', `the database ${path} has schema version ${version}, newer than this mcp-gateway knows (${SCHEMA_VERSION})`, {
        hint: 'run the mcp-gateway release that wrote it (or a newer one); downgrading the store is not supported',
      });
    }
    if (version === SCHEMA_VERSION) return;
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** SQLite failures as the store's errors: "locked past the timeout" and I/O trouble are outages (503), a damaged file is corrupt. */
export function toStoreError(err: unknown, path: string): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  const code = err.code;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new GatewayError('ERR_STORE_UNREACHABLE', `the database ${path} stayed locked by another process past the busy timeout`, {
      hint: 'an admin command or another process holds a long write transaction on it; retry in a moment',
      cause: err,
    });
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new GatewayError('ERR_STORE_CORRUPT', `the database ${path} is not a readable SQLite database (${code})`, {
      hint: `move it aside (mv ${path} ${path}.broken, and its -wal and -shm files) and start again: the gateway begins with empty state, so clients register and users log in again; a state.json of an earlier release belongs under a store.path ending in .json, which is imported`,
      cause: err,
    });
  }
  if (code === 'SQLITE_FULL') {
    return new GatewayError('ERR_STORE_UNREACHABLE', `the disk holding ${path} is full`, { hint: 'free space on that file system', cause: err });
  }
  return new GatewayError('ERR_STORE_UNREACHABLE', `the database ${path} failed: ${err.message} (${code})`, {
    hint: `check that ${path}, its -wal and -shm files and their directory are readable and writable by the user running the gateway`,
    cause: err,
  });
}
