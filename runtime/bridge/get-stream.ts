import type { ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { EventLog, type EventLogLimits, type LoggedEvent } from './event-log.js';
import { SseStream } from './sse-stream.js';

/** Why a GET stream was not opened. */
export type StreamRefusal = 'conflict' | 'unknown-event-id';

const KEEPALIVE_MS = 30_000;

/**
 * A session's GET stream for server-initiated messages, with the event log behind it. Every
 * message for it goes through the log (and gets its event id) whether or not a stream is open,
 * so a stream opened later, or resumed with Last-Event-ID, picks up what it missed.
 */
export class GetStream {
  readonly #limits: EventLogLimits;
  readonly #log: Logger;
  /** Created with the first message or stream: most sessions never need one. */
  #events: EventLog | undefined;
  #stream: SseStream | undefined;

  constructor(limits: EventLogLimits, log: Logger) {
    this.#limits = limits;
    this.#log = log;
  }

  get open(): boolean {
    return this.#stream !== undefined && !this.#stream.closed;
  }

  /**
   * Without `lastEventId` the stream starts with what waited in the log and is refused while
   * another is open. With it, it replays what followed that event; per 2025-03-26 a client sends
   * Last-Event-ID only for a stream it lost, so an open one is taken to be dead and replaced.
   * `prime`: send the 2025-11-25 priming event when there is nothing to replay.
   * Resolves when the response closes.
   */
  attach(res: ServerResponse, lastEventId: string | undefined, prime: boolean, onClosed: () => void): Promise<void> | StreamRefusal {
    if (lastEventId === undefined && this.open) return 'conflict';
    const log = (this.#events ??= new EventLog(this.#limits));
    let replay: LoggedEvent[];
    if (lastEventId === undefined) {
      replay = log.undelivered();
    } else {
      const after = log.parseEventId(lastEventId);
      if (after === undefined) return 'unknown-event-id';
      const events = log.after(after);
      if (events.gap) this.#log.warn({ lastEventId }, 'resumed GET stream: older events were already dropped from the event log');
      replay = events;
      this.#stream?.end();
    }
    if (res.destroyed) return Promise.resolve(); // the client is already gone
    const stream = new SseStream(res, 200);
    this.#stream = stream;
    if (replay.length === 0 && prime) stream.prime(log.lastId);
    for (const event of replay) {
      stream.send(event.line, event.id);
      log.markDelivered(event.id);
    }
    const keepAlive = setInterval(() => stream.comment('keepalive'), KEEPALIVE_MS);
    keepAlive.unref();
    return new Promise((resolve) => {
      res.once('close', () => {
        clearInterval(keepAlive);
        if (this.#stream === stream) this.#stream = undefined;
        onClosed();
        resolve();
      });
    });
  }

  /** Into the event log, and onto the stream when one is open. */
  deliver(line: string): void {
    const log = (this.#events ??= new EventLog(this.#limits));
    const event = log.append(line);
    const stream = this.#stream;
    if (stream === undefined || stream.closed) return;
    stream.send(line, event.id);
    log.markDelivered(event.id);
  }

  end(): void {
    this.#stream?.end();
    this.#stream = undefined;
  }
}
