// Load shapes shared by every target: a closed loop of calls per "slot" for a fixed time, and
// strictly sequential calls for latency.
import { performance } from 'node:perf_hooks';

/**
 * `sessions.length` sessions x `inFlight` concurrent loops each, for `durationMs` after a
 * warm-up. `call(session)` performs one tool call. Returns completed calls per second.
 */
export async function throughput(sessions, inFlight, call, { warmupMs = 1_000, durationMs = 5_000 } = {}) {
  let counting = false;
  let stop = false;
  let done = 0;
  const loop = async (session) => {
    while (!stop) {
      await call(session);
      if (counting) done++;
    }
  };
  const loops = sessions.flatMap((session) => Array.from({ length: inFlight }, () => loop(session)));
  await sleep(warmupMs);
  counting = true;
  const started = performance.now();
  await sleep(durationMs);
  const elapsed = performance.now() - started;
  counting = false;
  stop = true;
  await Promise.all(loops);
  return (done / elapsed) * 1000;
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
