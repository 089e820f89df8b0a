import type { ServerResponse } from 'node:http';

/**
 * What one SSE response may hold in memory for a client that does not read it. Past this the
 * stream is cut: a GET stream's client reconnects with Last-Event-ID and the event log replays
 * what it missed; a POST's client was not reading its answer anyway.
 */
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

/**
 * One Server-Sent Events response. Each event is one `res.write`, which Node hands to the
 * socket at once (no compression or buffering in between, and the server's sockets run with
 * Nagle off); `X-Accel-Buffering: no` asks nginx and compatible proxies not to hold events back.
 */
export class SseStream {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse, status: number, extraHeaders: Readonly<Record<string, string>> = {}) {
    this.#res = res;
    res.writeHead(status, {
      ...extraHeaders,
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
  }

  get closed(): boolean {
    return this.#res.writableEnded || this.#res.destroyed;
  }

  /** `json` is one serialised JSON-RPC message; `id` makes the event resumable (GET stream). */
  send(json: string, id?: number): void {
    if (this.closed) return;
    if (this.#res.writableLength > MAX_UNSENT_BYTES) {
      this.#res.destroy();
      return;
    }
    // A raw CR would end the SSE data line early; outside strings JSON allows it only as
    // whitespace, and inside strings it must be escaped, so dropping it changes nothing.
    const data = json.includes('\r') ? json.replaceAll('\r', '') : json;
    this.#res.write(id === undefined ? `event: message\ndata: ${data}\n\n` : `id: ${id}\nevent: message\ndata: ${data}\n\n`);
  }

  /**
   * 2025-11-25 "priming" event: an id and empty data, so a client that loses the stream before
   * any message has a Last-Event-ID to resume from. Older clients would try to parse the empty
   * data as JSON, so callers send it only to 2025-11-25 sessions.
   */
  prime(id: number): void {
    if (!this.closed) this.#res.write(`id: ${id}\ndata: \n\n`);
  }

  comment(text: string): void {
    if (!this.closed) this.#res.write(`: ${text}\n\n`);
  }

  end(): void {
    if (!this.closed) this.#res.end();
  }
}
