const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9})(s|m|h|d)$/;
/** Largest first, so a value is written back in the unit it was most likely given in. */
const UNITS_DESCENDING = ['d', 'h', 'm', 's'] as const;

/** Parses `90s`, `15m`, `1h`, `30d` into milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] as keyof typeof UNIT_MS;
  return amount > 0 ? amount * UNIT_MS[unit] : undefined;
}

/**
 * The inverse of parseDuration for whole seconds: 28_800_000 becomes `8h`, 90_000 `90s`. A day
 * is written as `24h`, as people write it (and as the defaults are); days from two on.
 */
export function formatDuration(ms: number): string {
  for (const unit of UNITS_DESCENDING) {
    if (unit === 'd' && ms < 2 * UNIT_MS.d) continue;
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

export const DURATION_HINT = 'use a number and a unit, e.g. 90s, 15m, 1h or 30d';
