import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GatewayError } from '../errors.js';

/**
 * The embedded store rewrites its whole file on every change, so two processes holding it would
 * each overwrite what the other wrote. Whoever opens the file writes `<state>.lock` with its pid
 * (created exclusively) and removes it on close; a lock whose process is gone (kill -9, a crash)
 * is stale and taken over. `mcp-gateway clients|tokens` read it to decide whether a running
 * gateway owns the state (then they go through its admin API) or they may open the file.
 */
export interface StoreLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockHolder {
  pid: number;
  /** ISO time the holder took the lock. */
  since?: string;
}

export function lockPathFor(statePath: string): string {
  return `${statePath}.lock`;
}

export async function acquireStoreLock(statePath: string): Promise<StoreLock> {
  const path = lockPathFor(statePath);
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
    if (holder !== undefined && isProcessAlive(holder.pid)) throw lockedError(statePath, holder);
    await rm(path, { force: true });
  }
  const holder = await readHolder(path);
  throw lockedError(statePath, holder ?? { pid: 0 });
}

/** The live process holding the state file's lock, or undefined (no lock, or a stale one). */
export async function liveLockHolder(statePath: string): Promise<LockHolder | undefined> {
  const holder = await readHolder(lockPathFor(statePath));
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

function lockedError(statePath: string, holder: LockHolder): GatewayError {
  return new GatewayError('ERR_STORE_LOCKED', `the state file ${statePath} is in use by process ${holder.pid}${holder.since ? ` (since ${holder.since})` : ''}`, {
    hint: `another \`mcp-gateway serve\` (or an admin command) of this project holds it: stop that one first; if process ${holder.pid} is no mcp-gateway, delete ${lockPathFor(statePath)}`,
  });
}
