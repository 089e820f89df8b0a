/** One server-to-client message meant for the session's GET stream, with its SSE event id. */
export interface LoggedEvent {
  readonly id: number;
  readonly line: string;
}

export interface EventLogLimits {
  /** Events kept per session; the oldest go first. */
  maxEvents: number;
  /** Bytes of message text kept per session; the newest event is kept even when larger. */
  maxBytes: number;
}

export const DEFAULT_EVENT_LOG_LIMITS: EventLogLimits = { maxEvents: 512, maxBytes: 1024 * 1024 };

/**
 * The bounded per-session event store behind the GET stream (Streamable HTTP, "Resumability and
 * Redelivery"). Every message routed to the GET stream is appended here with the next event id,
 * whether or not a stream is open, which gives both behaviours the spec asks for:
 * - with no GET stream open, server-initiated messages wait here (bounded) for the next one;
 * - a client that lost its stream reconnects with `Last-Event-ID` and gets what followed it.
 *
 * Event ids are a per-session counter (`1`, `2`, ...). The spec wants ids unique across all
 * streams of the session and able to name their stream: only the GET stream carries ids here
 * (POST responses stream without them and are not resumable), so the counter is both.
 */
export class EventLog {
  readonly #limits: EventLogLimits;
  #events: LoggedEvent[] = [];
  #bytes = 0;
  #lastId = 0;
  /** The highest id written to a GET stream; later ones were never sent anywhere. */
  #deliveredThrough = 0;

  constructor(limits: EventLogLimits) {
    this.#limits = limits;
  }

  get lastId(): number {
    return this.#lastId;
  }

  get size(): number {
    return this.#events.length;
  }

  append(line: string): LoggedEvent {
    const event = { id: ++this.#lastId, line };
    this.#events.push(event);
    this.#bytes += line.length;
    while (this.#events.length > 1 && (this.#events.length > this.#limits.maxEvents || this.#bytes > this.#limits.maxBytes)) {
      this.#bytes -= this.#events.shift()!.line.length;
    }
    return event;
  }

  markDelivered(id: number): void {
    if (id > this.#deliveredThrough) this.#deliveredThrough = id;
  }

  /** Messages that were never written to any stream: what a fresh GET stream starts with. */
  undelivered(): LoggedEvent[] {
    return this.after(this.#deliveredThrough);
  }

  /**
   * Events after `lastId`, for a client resuming with `Last-Event-ID`. When the log has already
   * dropped some of them (it is bounded), this is what it still holds; `gap` says so.
   */
  after(lastId: number): LoggedEvent[] & { gap?: boolean } {
    const first = this.#events[0];
    if (first === undefined) return [];
    const start = this.#events.findIndex((event) => event.id > lastId);
    const result: LoggedEvent[] & { gap?: boolean } = start === -1 ? [] : this.#events.slice(start);
    if (first.id > lastId + 1) result.gap = true;
    return result;
  }

  /**
   * `Last-Event-ID` as we issued it: digits, at most the last id of this session. Anything else
   * did not come from this session's GET stream.
   */
  parseEventId(header: string): number | undefined {
    if (!/^\d{1,15}$/.test(header)) return undefined;
    const id = Number(header);
    return id <= this.#lastId ? id : undefined;
  }
}
