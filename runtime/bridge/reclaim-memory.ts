import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** At most one forced collection this often, however many oversized messages a hostile server sends. */
const MIN_INTERVAL_MS = 10_000;
/** After the turn that dropped the message, so nothing of it is referenced any more. */
const DELAY_MS = 100;

let collect: (() => void) | null | undefined;
let last = -Infinity;

/**
 * Gives the memory of a message dropped for its size back soon. Up to maxMessageBytes of 64 KiB
 * pipe-read buffers were gathered before the limit was known to be passed; once let go they
 * are garbage that V8 frees only at its next major GC, which it starts for external memory past
 * 64 MiB only, so an idle gateway kept them for 13 s to minutes (a 50 MB line: 67 -> 98 MiB RSS,
 * still 98 after 45 s). Repeated oversized messages are an attack, so this is rate-limited; a
 * full GC of the gateway's small heap costs a few milliseconds. Node offers no GC call without
 * --expose-gc, which this sets at run time (V8 honours it for a new context's `gc`); where that
 * fails the memory comes back at V8's own pace.
 */
export function reclaimAfterOversizedMessage(now: number = Date.now()): void {
  if (now - last < MIN_INTERVAL_MS) return;
  last = now;
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      collect = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      collect = null;
    }
  }
  if (collect === null) return;
  const run = collect;
  setTimeout(() => run(), DELAY_MS).unref();
}
