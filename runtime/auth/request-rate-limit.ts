import { rateLimit, type IncrementResponse, type Options, type RateLimitRequestHandler, type Store as RateLimitStore } from 'express-rate-limit';
import type { RateCounter, RateWindow } from '../store/rate-counter.js';

export interface RequestRateLimitOptions {
  /** Names this limit's counts in the store (`auth:<name>`): two limits never share a count. */
  name: string;
  /** Requests per address per window. */
  limit: number;
  /** A whole number of seconds (rate-counter.ts). */
  windowMs: number;
  /** Answers the request over the limit. */
  handler: Options['handler'];
  /** Requests that are not counted at all (the admin API: one with the right token). */
  skip?: Options['skip'];
}

/** Names of counts in the store; a `:` keeps them apart from the bridges' (server names have none). */
const KEY_PREFIX = 'auth:';

/**
 * express-rate-limit (per address, IPv6 by /56, draft-8 `RateLimit` headers) counting in the
 * store's RateCounter rather than in its own memory: on Redis every auth replica counts against
 * one limit, so a router that spreads requests over N replicas does not multiply it by N. Before
 * this each limiter kept a MemoryStore, and the registration limit was per replica.
 */
export function requestRateLimit(rates: RateCounter, { name, limit, windowMs, handler, skip }: RequestRateLimitOptions): RateLimitRequestHandler {
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError(`requestRateLimit ${name}: limit must be a positive integer, got ${limit}`);
  if (!Number.isInteger(windowMs) || windowMs <= 0 || windowMs % 1000 !== 0) {
    throw new TypeError(`requestRateLimit ${name}: windowMs must be a whole number of seconds, got ${windowMs}`);
  }
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // X-Forwarded-For from a peer nobody trusts is a client's word: the auth app logs its own hint (trustedProxies) once.
    validate: { xForwardedForHeader: false },
    handler,
    ...(skip === undefined ? {} : { skip }),
    store: new CounterStore(rates, `${KEY_PREFIX}${name}\n`, { count: limit, windowMs }),
  });
}

/**
 * The express-rate-limit Store contract over a RateCounter. Only counting is offered: the
 * limiters here never un-count a request (no skipSuccessfulRequests / skipFailedRequests), so
 * `decrement` and `resetKey` are never called by express-rate-limit and refuse if anyone does.
 */
class CounterStore implements RateLimitStore {
  constructor(
    private readonly rates: RateCounter,
    readonly prefix: string,
    private readonly rate: RateWindow,
  ) {}

  async increment(key: string): Promise<IncrementResponse> {
    const verdict = await this.rates.consume(this.prefix + key, this.rate);
    return { totalHits: verdict.count, resetTime: new Date(Date.now() + verdict.resetInMs) };
  }

  decrement(): never {
    throw new TypeError('requestRateLimit counts only: decrement is not supported');
  }

  resetKey(): never {
    throw new TypeError('requestRateLimit counts only: resetKey is not supported');
  }
}
