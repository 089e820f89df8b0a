// Load shapes shared by every target: a closed loop of calls per "slot" for a fixed time, and
// strictly sequential calls for latency.
import { performance } from 'node:perf_hooks';

/**
 * `sessions.length` sessions x `inFlight` concurrent loops each, for `durationMs` after a
 * warm-up. `call(session)` performs one tool call. `cpuUs`, if given, reads the server's CPU
 * time in µs; it is read just before and just after the measured window, so its difference
 * divided by the calls completed in the window is the server's CPU per call (the window it
 * covers is longer by the two reads, a millisecond or less against seconds).
 * Resolves { callsPerSecond, calls, cpuUsPerCall } (cpuUsPerCall undefined without `cpuUs`).
 */
export async function throughput(sessions, inFlight, call, { warmupMs = 1_000, durationMs = 5_000, cpuUs } = {}) {
  let stop = false;
  let done = 0;
  // The first failed call stops every loop and is thrown once they have ended (not left as an
  // unhandled rejection while the window's timer runs, which ends the process without saying where).
  let failure;
  const loop = async (session) => {
    try {
      while (!stop) {
        await call(session);
        done++;
      }
    } catch (err) {
      failure ??= err;
      stop = true;
    }
  };
  const loops = sessions.flatMap((session) => Array.from({ length: inFlight }, () => loop(session)));
  await sleep(warmupMs);
  const cpuBefore = await cpuUs?.();
  const doneBefore = done;
  const started = performance.now();
  await sleep(durationMs);
  const elapsed = performance.now() - started;
  const calls = done - doneBefore;
  const cpuAfter = await cpuUs?.();
  stop = true;
  await Promise.all(loops);
  if (failure !== undefined) throw failure;
  const cpuUsPerCall = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / calls;
  return { callsPerSecond: (calls / elapsed) * 1000, calls, cpuUsPerCall };
}

/** One call at a time: p50 and p99 in milliseconds over `count` calls after `warmup` ones. */
export async function latency(session, call, { warmup = 300, count = 3_000 } = {}) {
  for (let i = 0; i < warmup; i++) await call(session);
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call(session);
    samples[i] = performance.now() - started;
  }
  samples.sort();
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
