/**
 * Compose durations are Go's `time.ParseDuration` format (`1m30s`, `500ms`, `10s`), which is
 * what `healthcheck.interval` and `stop_grace_period` take. Returns nanoseconds (what the Docker
 * API's Healthcheck fields want), or undefined when the text is not a duration.
 */
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export function parseComposeDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const parts = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(trimmed) ? trimmed.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g) : undefined;
  if (parts === undefined) return undefined;
  let total = 0;
  for (const [, amount, unit] of parts) total += Number(amount) * UNIT_NS[unit!]!;
  return Math.round(total);
}
