/**
 * Newline framing for a child's stdout and stderr. Chunks of a partial line are kept as a list
 * and joined once, when the newline arrives, so a multi-megabyte line costs one copy rather than
 * one per pipe read (64 KiB each). A line longer than `maxLineBytes` is never held in memory:
 * its head goes to `onOverflow` and the rest is skipped up to the next newline.
 */
export interface LineSplitterOptions {
  maxLineBytes: number;
  onLine(line: string): void;
  /** `head` is the first `overflowHeadBytes` of the oversized line, for a log message. */
  onOverflow(head: Buffer): void;
  overflowHeadBytes?: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export class LineSplitter {
  readonly #options: LineSplitterOptions;
  readonly #headBytes: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #skipping = false;

  constructor(options: LineSplitterOptions) {
    this.#options = options;
    this.#headBytes = Math.min(options.overflowHeadBytes ?? 1024, options.maxLineBytes);
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      const tail = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.#skipping) {
        this.#skipping = false;
        continue;
      }
      if (this.#size + tail.length > this.#options.maxLineBytes) {
        this.#overflow(tail);
        this.#skipping = false;
        continue;
      }
      this.#emit(this.#take(tail));
    }
    if (start === chunk.length || this.#skipping) return;
    const rest = start === 0 ? chunk : chunk.subarray(start);
    if (this.#size + rest.length > this.#options.maxLineBytes) {
      this.#overflow(rest);
      return;
    }
    this.#chunks.push(rest);
    this.#size += rest.length;
  }

  /** End of stream: a last line without a newline is still a line. */
  end(): void {
    if (this.#size > 0 && !this.#skipping) this.#emit(this.#take(Buffer.alloc(0)));
    this.#chunks = [];
    this.#size = 0;
    this.#skipping = false;
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

  #overflow(last: Buffer): void {
    const parts: Buffer[] = [];
    let collected = 0;
    for (const part of [...this.#chunks, last]) {
      if (collected >= this.#headBytes) break;
      const slice = part.subarray(0, this.#headBytes - collected);
      parts.push(slice);
      collected += slice.length;
    }
    this.#chunks = [];
    this.#size = 0;
    this.#skipping = true;
    this.#options.onOverflow(Buffer.concat(parts, collected));
  }
}
