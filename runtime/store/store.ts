import type { RateCounter } from './rate-counter.js';

/**
 * Where the auth runtime keeps its state (clients, pending logins, codes, refresh tokens).
 * Two implementations pass one contract suite (test/store-contract.test.ts): Redis (ioredis)
 * and the embedded file-backed store. Values are JSON-serialisable; keys are plain strings
 * that each implementation namespaces itself.
 */
export interface SetOptions {
  /** Time to live in milliseconds; omitted means the entry never expires. */
  ttlMs?: number;
}

export interface Store {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, options?: SetOptions): Promise<void>;
  /** Sets only when the key is absent; resolves true when this call set it (single-use markers, locks). */
  setIfAbsent(key: string, value: unknown, options?: SetOptions): Promise<boolean>;
  /** Reads and deletes in one atomic step: of two concurrent callers exactly one gets the value (authorization codes). */
  take<T = unknown>(key: string): Promise<T | undefined>;
  /** Resolves true when something was deleted. */
  delete(key: string): Promise<boolean>;
  /** Keys starting with `prefix` (unordered). For admin listings and reaping, never on a request's hot path. */
  keys(prefix: string): Promise<string[]>;
  /** Adds a member to a set (indexes such as "tokens of this client"); the TTL, if given, applies to the whole set. */
  addToSet(key: string, member: string, options?: SetOptions): Promise<void>;
  removeFromSet(key: string, member: string): Promise<void>;
  setMembers(key: string): Promise<string[]>;
  /** Request counts per key and window, for rate limits (rate-counter.ts): shared by every process on Redis. */
  readonly rates: RateCounter;
  /** Throws a GatewayError `ERR_STORE_UNREACHABLE` when the store cannot serve requests. */
  ping(): Promise<void>;
  /** Flushes what is pending and releases connections; idempotent. */
  close(): Promise<void>;
}
