const LOGGED_LINES_PER_SECOND = 100;

/**
 * At most 100 log lines a second per stream of one child, so a server that floods stderr (or
 * stdout with junk) cannot exhaust memory or drown the gateway's log; what is dropped is counted.
 */
export class LogRateLimit {
  #windowStart = 0;
  #inWindow = 0;
  #suppressed = 0;
  readonly #report: (suppressed: number) => void;

  constructor(report: (suppressed: number) => void) {
    this.#report = report;
  }

  admit(): boolean {
    const now = Date.now();
    if (now - this.#windowStart >= 1_000) {
      this.flush();
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow < LOGGED_LINES_PER_SECOND) {
      this.#inWindow++;
      return true;
    }
    this.#suppressed++;
    return false;
  }

  flush(): void {
    if (this.#suppressed === 0) return;
    this.#report(this.#suppressed);
    this.#suppressed = 0;
  }
}
