import type { IncomingHttpHeaders } from 'node:http';

/**
 * How long a fetched Client ID Metadata Document may be reused, from its response headers
 * (CIMD §5.2: respect RFC 9111, within the server's own bounds).
 *
 * - `'no-store'`: `Cache-Control: no-store` or `no-cache` (we do not revalidate with conditional
 *   requests, so "reuse only after revalidation" means "fetch again next time").
 * - a number of milliseconds (possibly 0 or negative when already stale): from `max-age`, else from
 *   `Expires` minus `Date` (RFC 9111 §4.2.1), less the `Age` the response already had.
 * - `undefined`: the response says nothing about freshness; the caller picks a default.
 *
 * We act as the authorization server's private cache of the client's document, so `private` is
 * fine and `s-maxage` (shared caches only) is ignored.
 */
export type CacheLifetime = number | 'no-store' | undefined;

export function cacheLifetimeMs(headers: IncomingHttpHeaders, nowMs: number): CacheLifetime {
  const directives = parseCacheControl(headers['cache-control']);
  if (directives.has('no-store') || directives.has('no-cache')) return 'no-store';
  const age = seconds(single(headers['age'])) ?? 0;
  if (directives.has('max-age')) {
    // RFC 9111 §4.2.1: invalid freshness information (a non-integer max-age) means stale.
    const maxAge = seconds(directives.get('max-age'));
    return maxAge === undefined ? 0 : (maxAge - age) * 1000;
  }
  // RFC 9111 §5.3: an Expires value that is not a valid date means "already expired".
  const expiresHeader = single(headers['expires']);
  if (expiresHeader === undefined) return undefined;
  const expires = parseHttpDate(expiresHeader);
  if (Number.isNaN(expires)) return 0;
  const date = parseHttpDate(single(headers['date']) ?? '');
  return expires - (Number.isNaN(date) ? nowMs : date) - age * 1000;
}

/** Directive names lower-cased; a value without quotes; duplicate directives: the first wins. */
function parseCacheControl(header: string | string[] | undefined): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const part of text.split(',')) {
    const [rawName = '', ...rawValue] = part.split('=');
    const name = rawName.trim().toLowerCase();
    if (name === '' || directives.has(name)) continue;
    const value =
      rawValue.length === 0
        ? undefined
        : rawValue
            .join('=')
            .trim()
            .replace(/^"(.*)"$/, '$1');
    directives.set(name, value);
  }
  return directives;
}

/** RFC 9111 §1.2.2 delta-seconds: digits only; anything else is treated as absent. */
function seconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Math.min(Number(value), 2 ** 31);
}

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms. Date.parse alone is
// far more lenient (it reads "0" as the year 2000), which would turn garbage into a lifetime.
const HTTP_DATE = [
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];

function parseHttpDate(value: string): number {
  const text = value.trim();
  if (!HTTP_DATE.some((form) => form.test(text))) return Number.NaN;
  // asctime carries no zone but is defined as UTC.
  return Date.parse(/GMT$/.test(text) ? text : `${text} GMT`);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
