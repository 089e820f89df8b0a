import { MessageEnds, type OversizedMessage } from './oversized-message.js';

export interface SseEventSplitterOptions {
  maxEventBytes: number;
  /** One whole event, as received: its field lines and the blank line that ends it. */
  onEvent(event: Buffer): void;
  /**
   * An event passed `maxEventBytes`: called once, at that moment, with what was gathered of it.
   * Unless `stop()` is called, the rest of it is skipped as it arrives and framing resumes after it.
   */
  onOversized(event: OversizedMessage): void;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Frames a Server-Sent Events byte stream into events (WHATWG HTML §9.2.5: lines end with CRLF, LF
 * or CR; a blank line ends an event), so that a proxy can relay each event whole and refuse one
 * that is too large before any of it reaches the client. An event is gathered until its blank
 * line, but never past `maxEventBytes`: then its chunks are let go and the rest is dropped as it
 * arrives.
 */
export class SseEventSplitter {
  readonly #options: SseEventSplitterOptions;
  #chunks: Buffer[] = [];
  #size = 0;
  /** The current line has bytes: a terminator now ends a field line, not the event. */
  #lineHasBytes = false;
  /** The last byte seen was a CR: an LF right after it is the same line end. */
  #afterCr = false;
  #skipping = false;
  #stopped = false;

  constructor(options: SseEventSplitterOptions) {
    this.#options = options;
  }

  /** No more callbacks: the caller has given up on this stream. */
  stop(): void {
    this.#stopped = true;
    this.#chunks = [];
    this.#size = 0;
  }

  push(chunk: Buffer): void {
    let eventStart = 0;
    let nextCr = chunk.indexOf(CR);
    let nextLf = chunk.indexOf(LF);
    for (let at = 0; !this.#stopped; ) {
      // Each search runs again only once passed, so a chunk costs one scan per byte value.
      if (nextCr !== -1 && nextCr < at) nextCr = chunk.indexOf(CR, at);
      if (nextLf !== -1 && nextLf < at) nextLf = chunk.indexOf(LF, at);
      const end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
      if (end === -1) {
        if (at < chunk.length) this.#noteBytes();
        break;
      }
      if (end > at) this.#noteBytes();
      const byte = chunk[end];
      at = end + 1;
      if (byte === LF && this.#afterCr) {
        this.#afterCr = false;
        continue;
      }
      this.#afterCr = byte === CR;
      if (this.#lineHasBytes) {
        this.#lineHasBytes = false;
        continue;
      }
      this.#endEvent(chunk.subarray(eventStart, at));
      eventStart = at;
    }
    if (this.#stopped || eventStart === chunk.length) return;
    this.#gather(chunk.subarray(eventStart));
  }

  #noteBytes(): void {
    this.#lineHasBytes = true;
    this.#afterCr = false;
  }

  #endEvent(last: Buffer): void {
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    if (this.#size + last.length > this.#options.maxEventBytes) {
      this.#overflow(last);
      this.#skipping = false;
      return;
    }
    this.#chunks.push(last);
    const event = this.#chunks.length === 1 ? last : Buffer.concat(this.#chunks, this.#size + last.length);
    this.#chunks = [];
    this.#size = 0;
    this.#options.onEvent(event);
  }

  #gather(part: Buffer): void {
    if (this.#skipping) return;
    if (this.#size + part.length > this.#options.maxEventBytes) {
      this.#overflow(part);
      return;
    }
    this.#chunks.push(part);
    this.#size += part.length;
  }

  #overflow(last: Buffer): void {
    const ends = new MessageEnds();
    for (const chunk of this.#chunks) ends.push(chunk);
    ends.push(last);
    this.#chunks = [];
    this.#size = 0;
    this.#skipping = true;
    this.#options.onOversized(ends.finish());
  }
}
