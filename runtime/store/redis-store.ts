import { redisRateCounter, type RateCounter } from './rate-counter.js';
import { Redis, ReplyError } from 'ioredis';
import { GatewayError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { SetOptions, Store } from './store.js';

export interface RedisStoreOptions {
  /** redis://host:port/db or rediss://...; a password in it works but belongs in `password`. */
  url: string;
  password?: string | undefined;
  /** Prepended to every key, so several gateways (or tests) can share one Redis. */
  keyPrefix: string;
  logger?: Logger | undefined;
  /** How long create waits for Redis to answer, retries included; also bounds ping() and close(). */
  connectTimeoutMs?: number | undefined;
}

const UNREACHABLE_HINT =
  'start Redis (e.g. apt-get install -y redis-server && redis-server --daemonize yes) or fix store.url in mcp-gateway.yaml; the password goes in .secrets/redis-password';
/** Reconnect delays stay short once connected: a Redis restart should cost seconds, not minutes. */
const MAX_RECONNECT_DELAY_MS = 2_000;

export async function createRedisStore({ url, password, keyPrefix, logger = silentLogger(), connectTimeoutMs = 5_000 }: RedisStoreOptions): Promise<Store> {
  const where = describeRedisUrl(url);
  const secrets = [password, decodeURIComponent(new URL(url).password)].filter((s): s is string => s !== undefined && s !== '');
  const redis = new Redis(url, {
    ...(password === undefined ? {} : { password }),
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    // A request waits through at most one reconnect attempt, then fails (and the caller answers 503).
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  });

  // Without a listener ioredis reports every failed reconnect as an unhandled 'error'.
  let lastError: Error | undefined;
  let wasReady = false;
  let healthy = false;
  redis.on('error', (err: Error) => {
    lastError = err;
    if (healthy) logger.warn({ err: scrub(err.message, secrets), redis: where }, 'lost the connection to Redis; reconnecting');
    else logger.debug({ err: scrub(err.message, secrets), redis: where }, 'Redis connection attempt failed');
    healthy = false;
  });
  redis.on('ready', () => {
    if (wasReady) logger.info({ redis: where }, 'reconnected to Redis');
    wasReady = true;
    healthy = true;
  });

  if (!(await readyWithin(redis, connectTimeoutMs))) {
    redis.disconnect();
    const reason = lastError === undefined ? `no answer within ${connectTimeoutMs} ms` : scrub(lastError.message, secrets);
    throw new GatewayError('ERR_STORE_UNREACHABLE', `cannot reach Redis at ${where}: ${reason}`, { hint: UNREACHABLE_HINT });
  }
  return new RedisStore(redis, keyPrefix, where, connectTimeoutMs);
}

class RedisStore implements Store {
  private closing: Promise<void> | undefined;
  readonly rates: RateCounter;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly where: string,
    private readonly timeoutMs: number,
  ) {
    this.rates = redisRateCounter(redis, keyPrefix);
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const json = await this.run(() => this.redis.get(this.keyPrefix + key));
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    const json = encodeValue(value);
    const ttlMs = ttlOf(options);
    await this.run(() => (ttlMs === undefined ? this.redis.set(this.keyPrefix + key, json) : this.redis.set(this.keyPrefix + key, json, 'PX', ttlMs)));
  }

  async setIfAbsent(key: string, value: unknown, options?: SetOptions): Promise<boolean> {
    const json = encodeValue(value);
    const ttlMs = ttlOf(options);
    const reply = await this.run(() =>
      ttlMs === undefined ? this.redis.set(this.keyPrefix + key, json, 'NX') : this.redis.set(this.keyPrefix + key, json, 'PX', ttlMs, 'NX'),
    );
    return reply === 'OK';
  }

  // GETDEL (Redis >= 6.2) is one command, so Redis itself guarantees a single winner.
  async take<T = unknown>(key: string): Promise<T | undefined> {
    const json = await this.run(() => this.redis.getdel(this.keyPrefix + key));
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.run(() => this.redis.del(this.keyPrefix + key))) > 0;
  }

  async keys(prefix: string): Promise<string[]> {
    // SCAN (never KEYS) so a large keyspace does not block Redis; MATCH is a glob, so a literal prefix is escaped.
    const match = `${escapeGlob(this.keyPrefix + prefix)}*`;
    return this.run(async () => {
      const found = new Set<string>(); // SCAN may return a key more than once
      for await (const batch of this.redis.scanStream({ match, count: 500 })) {
        for (const key of batch as string[]) found.add(key.slice(this.keyPrefix.length));
      }
      return [...found];
    });
  }

  async addToSet(key: string, member: string, options?: SetOptions): Promise<void> {
    const ttlMs = ttlOf(options);
    const fullKey = this.keyPrefix + key;
    if (ttlMs === undefined) {
      await this.run(() => this.redis.sadd(fullKey, member));
      return;
    }
    const results = await this.run(() => this.redis.multi().sadd(fullKey, member).pexpire(fullKey, ttlMs).exec());
    const failed = results?.find(([err]) => err !== null);
    if (failed) throw this.translate(failed[0]);
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.run(() => this.redis.srem(this.keyPrefix + key, member));
  }

  async setMembers(key: string): Promise<string[]> {
    return this.run(() => this.redis.smembers(this.keyPrefix + key));
  }

  async ping(): Promise<void> {
    // Answer health checks at once while ioredis is reconnecting instead of queueing behind it.
    if (this.redis.status !== 'ready') throw this.unreachable(`not connected (${this.redis.status})`);
    await this.run(() => withTimeout(this.redis.ping(), this.timeoutMs));
  }

  close(): Promise<void> {
    this.closing ??= withTimeout(this.redis.quit(), this.timeoutMs).then(
      () => undefined,
      () => this.redis.disconnect(),
    );
    return this.closing;
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw this.unreachable('the store is closed');
    try {
      return await command();
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** A reply error (WRONGTYPE, ...) is our bug and stays as it is; anything else means Redis is not there. */
  private translate(err: unknown): Error {
    if (err instanceof ReplyError) return err as Error;
    return this.unreachable(err instanceof Error ? err.message : String(err), err);
  }

  private unreachable(reason: string, cause?: unknown): GatewayError {
    return new GatewayError('ERR_STORE_UNREACHABLE', `cannot reach Redis at ${this.where}: ${reason}`, { hint: UNREACHABLE_HINT, cause });
  }
}

/** Resolves true once the client is ready, false when `timeoutMs` passes first; failed attempts are retried meanwhile. */
function readyWithin(redis: Redis, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    redis.once('ready', onReady);
    // connect() rejects on the first failed attempt while retryStrategy keeps trying; 'ready' is what counts.
    redis.connect().catch(() => {});
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** redis://host:port/db with any credentials left out, for messages and logs. */
function describeRedisUrl(url: string): string {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '') || '0';
  return `${parsed.protocol}//${parsed.hostname}:${parsed.port || '6379'}/${db}`;
}

function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, '\\$&');
}

function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('store values must be JSON-serialisable');
  return json;
}

function ttlOf(options: SetOptions | undefined): number | undefined {
  const ttlMs = options?.ttlMs;
  if (ttlMs === undefined) return undefined;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new TypeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}
