import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GatewayError } from '../errors.js';

/**
 * "A gateway serves this database": `mcp-gateway serve` writes `<database>.gateway.lock` with its
 * pid (created exclusively) and removes it on close; a lock whose process is gone (kill -9, a
 * crash) is stale and taken over. SQLite lets any number of processes open the database, so the
 * lock no longer guards the file itself: it tells `clients` and `tokens` that a gateway is running
 * (they go through its admin API, which writes the audit log) and refuses a second `serve`. Only
 * serve takes it; an admin command working on the database never does, so it can never be
 * mistaken for a running gateway, and several of them can run at once.
 */
export interface PidLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockHolder {
  pid: number;
  /** ISO time the holder took the lock. */
  since?: string;
}

export function gatewayLockPath(databasePath: string): string {
  return `${databasePath}.gateway.lock`;
}

/** Taken by `serve` (through startProjectGateway) before it opens the database; ERR_STORE_LOCKED while another live gateway holds it. */
export async function acquireGatewayLock(databasePath: string): Promise<PidLock> {
  const path = gatewayLockPath(databasePath);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const content = `${JSON.stringify({ pid: process.pid, since: new Date().toISOString() })}\n`;
  // Two rounds: the second follows the removal of a stale lock; losing that race to another
  // process that removed it too means that process now holds it.
  for (let round = 0; round < 2; round++) {
    try {
      await writeFile(path, content, { flag: 'wx', mode: 0o600 });
      return { path, release: () => releaseLock(path) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(path);
    if (holder !== undefined && isProcessAlive(holder.pid)) throw gatewayRunningError(databasePath, holder);
    await rm(path, { force: true });
  }
  throw gatewayRunningError(databasePath, (await readHolder(path)) ?? { pid: 0 });
}

/** The live gateway serving `databasePath`, or undefined (no lock, or a stale one). */
export function runningGateway(databasePath: string): Promise<LockHolder | undefined> {
  return liveLockHolder(gatewayLockPath(databasePath));
}

/** The live process named by the pid lock file at `lockPath` (also the previous release's `state.json.lock`). */
export async function liveLockHolder(lockPath: string): Promise<LockHolder | undefined> {
  const holder = await readHolder(lockPath);
  return holder !== undefined && isProcessAlive(holder.pid) ? holder : undefined;
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  // A lock created a moment ago may not hold its content yet (open with wx, then write).
  for (let attempt = 0; attempt < 3; attempt++) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const holder = parseHolder(text);
    if (holder !== undefined) return holder;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Unreadable after a while: nobody is writing it, so nobody holds it.
  return undefined;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { pid, since } = parsed as Record<string, unknown>;
    if (typeof pid !== 'number' || !Number.isInteger(pid)) return undefined;
    return typeof since === 'string' ? { pid, since } : { pid };
  } catch {
    return undefined;
  }
}

async function releaseLock(path: string): Promise<void> {
  // Only our own lock: after a stale takeover the file may belong to someone else.
  const holder = await readHolder(path);
  if (holder?.pid === process.pid) await rm(path, { force: true });
}

function gatewayRunningError(databasePath: string, holder: LockHolder): GatewayError {
  return new GatewayError(
    'ERR_STORE_LOCKED',
    `the database ${databasePath} is in use by process ${holder.pid}${holder.since ? ` (since ${holder.since})` : ''}, a running mcp-gateway serve`,
    {
      hint: `another \`mcp-gateway serve\` of this project is running: stop that one first; if process ${holder.pid} is no mcp-gateway, delete ${gatewayLockPath(databasePath)}`,
    },
  );
}
