/** What the registry needs of a session: who owns it and whether its child still runs. */
export interface RegisteredSession {
  readonly id: string;
  readonly owner: string;
  readonly alive: boolean;
}

export interface SessionLimits {
  maxSessions: number;
  maxSessionsPerUser: number;
}

/** Which limit a new session would break. */
export type LimitReached = 'server' | 'user';

/**
 * Live sessions of one bridge, by `Mcp-Session-Id`. A session belongs to the token subject that
 * created it: another subject presenting the id is told it does not exist (404), exactly like an
 * unknown id, so ids cannot be probed or hijacked across users.
 *
 * Limits count sessions that are still starting (their child spawning) as well as live ones:
 * a burst of initialize requests must not get past the limit while the children start.
 */
export class SessionRegistry<S extends RegisteredSession> {
  readonly #sessions = new Map<string, S>();
  readonly #perOwner = new Map<string, number>();
  readonly #limits: SessionLimits;
  #total = 0;

  constructor(limits: SessionLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Holds a place for a session of `owner` about to start; `release` or `add` it after. */
  reserve(owner: string): LimitReached | undefined {
    if (this.#total >= this.#limits.maxSessions) return 'server';
    const owned = this.#perOwner.get(owner) ?? 0;
    if (owned >= this.#limits.maxSessionsPerUser) return 'user';
    this.#perOwner.set(owner, owned + 1);
    this.#total++;
    return undefined;
  }

  /** The reserved session could not start. */
  release(owner: string): void {
    const owned = this.#perOwner.get(owner) ?? 0;
    if (owned <= 1) this.#perOwner.delete(owner);
    else this.#perOwner.set(owner, owned - 1);
    this.#total--;
  }

  /** Registers a session whose place was reserved. */
  add(session: S): void {
    this.#sessions.set(session.id, session);
  }

  /** The session registered under `id`, whoever owns it (for operators, never for clients). */
  get(id: string): S | undefined {
    return this.#sessions.get(id);
  }

  find(id: string, owner: string): S | undefined {
    const session = this.#sessions.get(id);
    return session !== undefined && session.owner === owner && session.alive ? session : undefined;
  }

  /** Removes `session` (and frees its place) only if it is still the one registered under its id. */
  remove(session: S): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    this.release(session.owner);
  }

  all(): S[] {
    return [...this.#sessions.values()];
  }
}
