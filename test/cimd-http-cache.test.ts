import { describe, expect, it } from 'vitest';
import { cacheLifetimeMs } from '../runtime/auth/clients/cimd/http-cache.js';

const now = Date.parse('2026-01-01T00:00:00Z');
const httpDate = (offsetMs: number): string => new Date(now + offsetMs).toUTCString();

describe('cacheLifetimeMs (RFC 9111)', () => {
  it.each([
    ['max-age', { 'cache-control': 'max-age=300' }, 300_000],
    ['max-age among other directives, quoted', { 'cache-control': 'public, max-age="120", must-revalidate' }, 120_000],
    ['max-age less the Age already spent', { 'cache-control': 'max-age=300', age: '100' }, 200_000],
    ['max-age over Expires', { 'cache-control': 'max-age=60', expires: httpDate(3_600_000) }, 60_000],
    ['Expires relative to Date', { date: httpDate(-10_000), expires: httpDate(110_000) }, 120_000],
    ['Expires relative to now without Date', { expires: httpDate(30_000) }, 30_000],
    ['an invalid Expires as already expired', { expires: '0' }, 0],
    ['the obsolete asctime Expires form', { date: 'Sun Nov  6 08:49:37 1994', expires: 'Sun Nov  6 08:50:37 1994' }, 60_000],
    ['an invalid max-age as stale', { 'cache-control': 'max-age=soon' }, 0],
    ['no-store', { 'cache-control': 'max-age=600, no-store' }, 'no-store'],
    ['no-cache', { 'cache-control': 'No-Cache' }, 'no-store'],
    ['no-cache with a field name', { 'cache-control': 'no-cache="set-cookie", max-age=60' }, 'no-store'],
    ['nothing about freshness', {}, undefined],
    ['s-maxage alone (shared caches only)', { 'cache-control': 's-maxage=600' }, undefined],
  ] as const)('reads %s', (_name, headers, expected) => {
    expect(cacheLifetimeMs(headers, now)).toBe(expected);
  });
});
