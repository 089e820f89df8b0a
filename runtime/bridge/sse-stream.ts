import type { ServerResponse } from 'node:http';

/**
 * One Server-Sent Events response. Each event is one `res.write`, which Node hands to the
 * socket at once (no compression or buffering in between); `X-Accel-Buffering: no` asks nginx
 * and compatible proxies not to hold events back either.
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

  /** `json` is one serialised JSON-RPC message. */
  send(json: string): void {
    if (this.closed) return;
    // A raw CR would end the SSE data line early; outside strings JSON allows it only as
    // whitespace, and inside strings it must be escaped, so dropping it changes nothing.
    const data = json.includes('\r') ? json.replaceAll('\r', '') : json;
    this.#res.write(`event: message\ndata: ${data}\n\n`);
  }

  comment(text: string): void {
    if (!this.closed) this.#res.write(`: ${text}\n\n`);
  }

  end(): void {
    if (!this.closed) this.#res.end();
  }
}
