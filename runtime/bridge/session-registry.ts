/** What the registry needs of a session: who owns it and whether its child still runs. */
export interface RegisteredSession {
  readonly id: string;
  readonly owner: string;
  readonly alive: boolean;
}

/**
 * Live sessions of one bridge, by `Mcp-Session-Id`. A session belongs to the token subject that
 * created it: another subject presenting the id is told it does not exist (404), exactly like an
 * unknown id, so ids cannot be probed or hijacked across users.
 */
export class SessionRegistry<S extends RegisteredSession> {
  readonly #sessions = new Map<string, S>();

  get size(): number {
    return this.#sessions.size;
  }

  add(session: S): void {
    this.#sessions.set(session.id, session);
  }

  find(id: string, owner: string): S | undefined {
    const session = this.#sessions.get(id);
    return session !== undefined && session.owner === owner && session.alive ? session : undefined;
  }

  /** Removes `session` only if it is still the one registered under its id. */
  remove(session: S): void {
    if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
  }

  all(): S[] {
    return [...this.#sessions.values()];
  }
}
