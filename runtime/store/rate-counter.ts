import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** At most `count` requests per `windowMs` (a whole number of seconds). */
export interface RateWindow {
  count: number;
  windowMs: number;
}

/** Whether one more request fits; when not, how long until it would. */
export interface RateVerdict {
  allowed: boolean;
  retryAfterMs: number;
  /** Requests counted in the key's current window, this one included (past the limit too). */
  count: number;
  /** Until the current window ends and the count starts from zero again. */
  resetInMs: number;
}

/**
 * Counting requests per key per window, as the stores do it: the embedded store counts in this
 * process (it is one process's store: `serve`, or a single auth or bridge container), Redis
 * counts in Redis, so every gateway process sharing it shares the counts. rate-limiter-flexible
 * does the counting (atomic INCR + PEXPIRE in one Lua call on Redis; a fixed window per key).
 */
export interface RateCounter {
  consume(key: string, rate: RateWindow): Promise<RateVerdict>;
}

/** One limiter per distinct rate: the library binds points and duration to the limiter. */
function limiterCache(make: (rate: RateWindow, keyPrefix: string) => RateLimiterAbstract) {
  const limiters = new Map<string, RateLimiterAbstract>();
  return (rate: RateWindow): RateLimiterAbstract => {
    const name = `${rate.count}/${rate.windowMs}`;
    let limiter = limiters.get(name);
    if (limiter === undefined) {
      limiter = make(rate, `rate:${name}`);
      limiters.set(name, limiter);
    }
    return limiter;
  };
}

async function consumeWith(limiter: RateLimiterAbstract, key: string): Promise<RateVerdict> {
  try {
    const res = await limiter.consume(key, 1);
    return { allowed: true, retryAfterMs: 0, count: res.consumedPoints, resetInMs: Math.max(0, res.msBeforeNext) };
  } catch (err) {
    // The library rejects with a RateLimiterRes when the limit is reached, with an Error when its store failed.
    if (err instanceof RateLimiterRes) {
      const retryAfterMs = Math.max(1, err.msBeforeNext);
      return { allowed: false, retryAfterMs, count: err.consumedPoints, resetInMs: retryAfterMs };
    }
    throw err;
  }
}

export function memoryRateCounter(): RateCounter {
  const limiterFor = limiterCache((rate, keyPrefix) => new RateLimiterMemory({ keyPrefix, points: rate.count, duration: rate.windowMs / 1000 }));
  return { consume: (key, rate) => consumeWith(limiterFor(rate), key) };
}

/**
 * Counts in Redis under the store's key prefix. While Redis is unreachable the counts fall back
 * to this process (the library's insurance limiter): a blip neither refuses every call nor lifts
 * every limit.
 */
export function redisRateCounter(redis: Redis, keyPrefix: string): RateCounter {
  const limiterFor = limiterCache(
    (rate, prefix) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${keyPrefix}${prefix}`,
        points: rate.count,
        duration: rate.windowMs / 1000,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: prefix, points: rate.count, duration: rate.windowMs / 1000 }),
      }),
  );
  return { consume: (key, rate) => consumeWith(limiterFor(rate), key) };
}
