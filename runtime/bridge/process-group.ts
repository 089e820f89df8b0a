import { tellWatchdog } from './orphan-watchdog.js';

/**
 * Process groups of children still alive. If the gateway exits without `close()` (a crash, an
 * uncaught error), detached children would outlive it; this last-resort hook kills them.
 * One listener for the whole process, however many bridges and sessions exist.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

export function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  tellWatchdog(`+${pgid}`);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const group of liveGroups) signalGroup(group, 'SIGKILL');
  });
}

export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: nobody left in the group
  }
}

export function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0);
}

export function forgetGroup(pgid: number): void {
  if (liveGroups.delete(pgid)) tellWatchdog(`-${pgid}`);
}
