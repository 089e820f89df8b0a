import { readFile } from 'node:fs/promises';
import { GatewayError } from '../errors.js';

/*
 * The `state.json` of releases before the SQLite store: `{version: 1, entries: {key: {type,
 * value | members, expiresAt?}}}`, rewritten whole by the JSON-file embedded store on every
 * change. Read once, by the import into the database (legacy-state-import.ts); never written.
 */
export type LegacyEntry =
  | { key: string; type: 'value'; json: string; expiresAt: number | undefined }
  | { key: string; type: 'set'; members: string[]; expiresAt: number | undefined };

const FILE_VERSION = 1;

/** The live entries of the file at `path` (expired ones left out), or undefined when there is no such file. */
export async function readLegacyStateFile(path: string, at: number): Promise<LegacyEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GatewayError('ERR_STORE_CORRUPT', `cannot read the state file ${path}: ${(err as Error).message}`, {
      hint: `make ${path} a regular file readable by the user running the gateway, so it can be imported into the database, or remove it to start with empty state`,
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw corrupt(path, 'it is not valid JSON', err);
  }
  if (!isRecord(parsed) || !isRecord(parsed['entries'])) throw corrupt(path, 'it is not a state file');
  if (parsed['version'] !== FILE_VERSION) throw corrupt(path, `its format version ${JSON.stringify(parsed['version'])} is not ${FILE_VERSION}`);
  const entries: LegacyEntry[] = [];
  for (const [key, raw] of Object.entries(parsed['entries'])) {
    const entry = decodeEntry(key, raw);
    if (entry === undefined) throw corrupt(path, `its entry ${JSON.stringify(key)} is malformed`);
    if (entry.expiresAt === undefined || entry.expiresAt > at) entries.push(entry);
  }
  return entries;
}

function decodeEntry(key: string, raw: unknown): LegacyEntry | undefined {
  if (!isRecord(raw)) return undefined;
  const expiresAt = raw['expiresAt'];
  if (expiresAt !== undefined && !Number.isFinite(expiresAt)) return undefined;
  const expiry = expiresAt as number | undefined;
  if (raw['type'] === 'value' && 'value' in raw) return { key, type: 'value', json: JSON.stringify(raw['value']), expiresAt: expiry };
  const members = raw['members'];
  if (raw['type'] === 'set' && Array.isArray(members) && members.every((m) => typeof m === 'string')) {
    return { key, type: 'set', members, expiresAt: expiry };
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
