import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { liveLockHolder } from './gateway-lock.js';
import { readLegacyStateFile } from './legacy-state-file.js';
import type { SqliteDatabase } from './sqlite-database.js';

export interface LegacyImportOptions {
  /** The `state.json` of an earlier release. */
  from: string;
  databasePath: string;
  /** Epoch ms: entries that expired by then are not imported. */
  now: number;
  logger: Logger;
}

const MARKER = 'legacy-state-import';

/**
 * Moves the state of the JSON-file store of earlier releases into the database, once: all entries
 * in one transaction together with a marker row in `meta`, then the file is renamed to
 * `state.json.migrated-<time>` and kept as a backup. The marker is what makes it "once": a crash
 * between the commit and the rename leaves the file in place, and the next start only renames it.
 * Entries already in the database win over the file's (it can only be older).
 */
export async function importLegacyStateFile(db: SqliteDatabase, { from, databasePath, now, logger }: LegacyImportOptions): Promise<void> {
  // The previous release held `<state>.lock` while it ran, and rewrote the file on every change.
  const legacyLock = `${from}.lock`;
  const holder = await liveLockHolder(legacyLock);
  if (holder !== undefined) {
    throw new GatewayError('ERR_STORE_LOCKED', `${from} is still in use by process ${holder.pid}, an mcp-gateway of an earlier release`, {
      hint: `stop that process first; the next start imports ${basename(from)} into ${databasePath}`,
    });
  }
  const entries = await readLegacyStateFile(from, now);
  if (entries === undefined) return;

  const imported = db
    .transaction(() => {
      if (db.prepare('SELECT 1 FROM meta WHERE name = ?').get(MARKER) !== undefined) return undefined;
      const putValue = db.prepare("INSERT INTO entries (key, kind, value, expires_at) VALUES (?, 'value', ?, ?) ON CONFLICT (key) DO NOTHING");
      const putSet = db.prepare("INSERT INTO entries (key, kind, value, expires_at) VALUES (?, 'set', NULL, ?) ON CONFLICT (key) DO NOTHING");
      const addMember = db.prepare('INSERT OR IGNORE INTO set_members (key, member) VALUES (?, ?)');
      let count = 0;
      for (const entry of entries) {
        if (entry.type === 'value') {
          count += putValue.run(entry.key, entry.json, entry.expiresAt ?? null).changes;
        } else if (entry.members.length > 0 && putSet.run(entry.key, entry.expiresAt ?? null).changes === 1) {
          for (const member of entry.members) addMember.run(entry.key, member);
          count++;
        }
      }
      db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run(MARKER, JSON.stringify({ from, importedAt: new Date(now).toISOString(), entries: count }));
      return count;
    })
    .immediate();

  const backup = `${from}.migrated-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  await rename(from, backup);
  await rm(legacyLock, { force: true });
  if (imported === undefined) {
    logger.info({ event: 'store_migrated', from, backup }, `${basename(from)} was imported into ${databasePath} before; renamed it to ${basename(backup)}`);
  } else {
    logger.info(
      { event: 'store_migrated', from, to: databasePath, entries: imported, backup },
      `imported ${imported} entries from ${basename(from)} into ${databasePath}; the old file is kept as ${basename(backup)}`,
    );
  }
}
