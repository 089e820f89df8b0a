import type { Registry } from 'prom-client';

/** The series of gateway-metrics.ts this summary reads, by their Prometheus names. */
const TOOL_CALLS = 'mcp_gateway_tool_calls_total';
const TOOL_DURATION = 'mcp_gateway_tool_call_duration_seconds';
const OVERHEAD = 'mcp_gateway_gateway_overhead_seconds';

/** What the admin page and `mcp-gateway status` show of the metrics, over the last `windowSeconds`. */
export interface MetricsSnapshot {
  /** Seconds the figures cover: about a minute, or since the gateway started when that is less. */
  windowSeconds: number;
  /** tools/call requests in the window, every outcome (ok, error, denied, limited). */
  toolCalls: number;
  callsPerSecond: number;
  /** Time from forwarding a call to the server's answer; null without calls in the window. */
  toolCallMs: Percentiles;
  /** Time the gateway itself spent on a call (router, token check, bridge), the server excluded. */
  overheadMs: Percentiles;
}

export interface Percentiles {
  p50: number | null;
  p99: number | null;
}

export interface MetricsSummary {
  read(): Promise<MetricsSnapshot>;
}

interface Sample {
  at: number;
  calls: number;
  /** Cumulative bucket counts by upper bound (Infinity last), summed over every label but `le`. */
  duration: Map<number, number>;
  overhead: Map<number, number>;
}

/** Samples closer together than this are not kept apart (a page reloaded in a loop). */
const MIN_SAMPLE_GAP_MS = 1_000;

/**
 * Rates and percentiles from the gateway's prom-client registry, as Prometheus would compute
 * them (`rate()` and `histogram_quantile()`) between two readings. Counters only grow, so each
 * read compares with the newest reading at least `windowMs` old (or the one taken at start):
 * no timer, no second copy of the counts on the per-call path.
 */
export function createMetricsSummary(
  registry: Registry,
  { now = Date.now, windowMs = 60_000 }: { now?: () => number; windowMs?: number } = {},
): MetricsSummary {
  const samples: Sample[] = [];
  const first = sample(registry, now()).then((s) => {
    samples.push(s);
  });

  return {
    async read() {
      await first;
      const current = await sample(registry, now());
      let baseIndex = 0;
      for (let i = samples.length - 1; i >= 0; i--) {
        if (samples[i]!.at <= current.at - windowMs) {
          baseIndex = i;
          break;
        }
      }
      samples.splice(0, baseIndex);
      const base = samples[0]!;
      if (current.at - samples.at(-1)!.at >= MIN_SAMPLE_GAP_MS) samples.push(current);
      const seconds = Math.max((current.at - base.at) / 1000, 0.001);
      const calls = Math.max(current.calls - base.calls, 0);
      return {
        windowSeconds: Math.round(seconds * 10) / 10,
        toolCalls: calls,
        callsPerSecond: round(calls / seconds, 3),
        toolCallMs: percentiles(delta(current.duration, base.duration)),
        overheadMs: percentiles(delta(current.overhead, base.overhead)),
      };
    },
  };
}

async function sample(registry: Registry, at: number): Promise<Sample> {
  const [calls, duration, overhead] = await Promise.all([counterTotal(registry, TOOL_CALLS), buckets(registry, TOOL_DURATION), buckets(registry, OVERHEAD)]);
  return { at, calls, duration, overhead };
}

async function counterTotal(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

async function buckets(registry: Registry, name: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return out;
  for (const v of (await metric.get()).values) {
    // prom-client's values of a histogram carry the series name; its types leave it out.
    if ((v as { metricName?: string }).metricName !== `${name}_bucket`) continue;
    const le = v.labels['le'];
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + v.value);
  }
  return out;
}

function delta(current: Map<number, number>, base: Map<number, number>): Array<[number, number]> {
  return [...current].map(([le, count]): [number, number] => [le, Math.max(count - (base.get(le) ?? 0), 0)]).sort((a, b) => a[0] - b[0]);
}

function percentiles(cumulative: Array<[number, number]>): Percentiles {
  return { p50: quantile(0.5, cumulative), p99: quantile(0.99, cumulative) };
}

/**
 * Prometheus's histogram_quantile: linear interpolation inside the bucket holding the rank; in
 * the +Inf bucket the highest finite bound. Milliseconds, null without observations.
 */
export function quantile(q: number, cumulative: ReadonlyArray<readonly [le: number, count: number]>): number | null {
  const total = cumulative.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of cumulative) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return round(lowerBound * 1000, 3);
      const inBucket = count - lowerCount;
      const seconds = inBucket === 0 ? le : lowerBound + (le - lowerBound) * ((rank - lowerCount) / inBucket);
      return round(seconds * 1000, 3);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return round(lowerBound * 1000, 3);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Milliseconds as people read them (the admin page, `mcp-gateway status`): microseconds below one. */
export function formatDurationMs(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
