import { MessageEnds, type OversizedMessage } from './oversized-message.js';

/**
 * Newline framing for a child's stdout and stderr. Chunks of a partial line are kept as a list
 * and joined once, when the newline arrives, so a multi-megabyte line costs one copy rather than
 * one per pipe read (64 KiB each). A line longer than `maxLineBytes` is never held in memory:
 * the chunks gathered so far are dropped the moment it passes the limit, the rest is dropped as
 * it arrives up to the next newline, and only its two ends (copied, `MessageEnds`) and its size
 * reach `onOverflow`, once the line has ended. What is let go is garbage V8 frees at its next
 * major GC, not at once (the measurements are in test/bridge-message-limits.test.ts); reading the
 * whole line, as before, cost six copies of it at the peak.
 */
export interface LineSplitterOptions {
  maxLineBytes: number;
  onLine(line: string): void;
  /** A line over `maxLineBytes`, after its newline (or the end of the stream). */
  onOverflow(line: OversizedMessage): void;
  /** How many bytes of each end of an oversized line are kept (default 1 KiB). */
  overflowEndBytes?: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export class LineSplitter {
  readonly #options: LineSplitterOptions;
  readonly #endBytes: number | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  /** Set while an oversized line is being skipped. */
  #oversized: MessageEnds | undefined;

  constructor(options: LineSplitterOptions) {
    this.#options = options;
    this.#endBytes = options.overflowEndBytes === undefined ? undefined : Math.min(options.overflowEndBytes, options.maxLineBytes);
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      const part = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.#oversized === undefined && this.#size + part.length <= this.#options.maxLineBytes) {
        this.#emit(this.#take(part));
        continue;
      }
      this.#skip(part);
      this.#endOversized();
    }
    if (start === chunk.length) return;
    const rest = start === 0 ? chunk : chunk.subarray(start);
    if (this.#oversized === undefined && this.#size + rest.length <= this.#options.maxLineBytes) {
      this.#chunks.push(rest);
      this.#size += rest.length;
      return;
    }
    this.#skip(rest);
  }

  /** End of stream: a last line without a newline is still a line. */
  end(): void {
    if (this.#oversized !== undefined) this.#endOversized();
    else if (this.#size > 0) this.#emit(this.#take(Buffer.alloc(0)));
    this.#chunks = [];
    this.#size = 0;
  }

  #take(tail: Buffer): Buffer {
    if (this.#chunks.length === 0) return tail;
    this.#chunks.push(tail);
    const line = Buffer.concat(this.#chunks, this.#size + tail.length);
    this.#chunks = [];
    this.#size = 0;
    return line;
  }

  #emit(line: Buffer): void {
    const end = line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.length - 1 : line.length;
    if (end === 0) return;
    this.#options.onLine(line.toString('utf8', 0, end));
  }

  /** Part of an oversized line: only its ends are noted; the chunks gathered before it are let go. */
  #skip(part: Buffer): void {
    if (this.#oversized === undefined) {
      this.#oversized = new MessageEnds(this.#endBytes);
      for (const chunk of this.#chunks) this.#oversized.push(chunk);
      this.#chunks = [];
      this.#size = 0;
    }
    this.#oversized.push(part);
  }

  #endOversized(): void {
    const line = this.#oversized?.finish();
    this.#oversized = undefined;
    if (line !== undefined) this.#options.onOverflow(line);
  }
}
