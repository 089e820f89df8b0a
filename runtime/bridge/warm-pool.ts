import type { Logger } from '../logger.js';
import type { StdioLaunch } from './child-process-session.js';
import { DEFAULT_TEMPLATE, startInitializedChild, templateFrom, templateKey, type InitializedChild, type InitializeTemplate } from './initialized-child.js';

export interface WarmPoolOptions {
  size: number;
  launch: StdioLaunch;
  /** Bound to `{ server }`. */
  logger: Logger;
  initializeTimeoutMs: number;
  /** The session's limit on a stdout line, set when the child starts (a pooled child keeps it). */
  maxMessageBytes: number;
}

const MAX_EARLY_MESSAGES = 64;
const MAX_BACKOFF_MS = 30_000;

interface Waiting extends InitializedChild {
  key: string;
}

/**
 * Children started and initialized before anyone asks, so a new session skips the spawn and the
 * server's start-up.
 *
 * The hard part is the client's own `initialize`: the child has already been initialized, by us.
 * A pooled child is handed out only when the client asks for exactly what the child was
 * initialized with: the same protocolVersion and the same capabilities (by value). Then the
 * child's answer to our initialize is the answer it would have given the client, so the bridge
 * replies with that cached InitializeResult under the client's request id, and later swallows
 * the client's `notifications/initialized`, which the pool already sent. The only difference
 * the server can see is `clientInfo`, which is the first client's of that shape (name and
 * version of the client app, not of the user). Capabilities matter: a server that was told the
 * client cannot sample will never ask it to, so a mismatch is never papered over.
 *
 * What the pool initializes with adapts: it starts with the newest protocol version and no
 * capabilities (the SDK client's default), and when a client asks for something else, the pool
 * restarts its children with that client's params. A steady population of one kind of client
 * (the usual case: everyone on Claude, or everyone on Cursor) is then served warm after the
 * first session.
 */
export class WarmPool {
  readonly #options: WarmPoolOptions;
  readonly #log: Logger;
  #template: InitializeTemplate = DEFAULT_TEMPLATE;
  #key = templateKey(DEFAULT_TEMPLATE)!;
  #ready: Waiting[] = [];
  #starting = 0;
  #failures = 0;
  #lastFailure = '';
  #refillTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: WarmPoolOptions) {
    this.#options = options;
    this.#log = options.logger.child({ pool: true });
    this.#fill();
  }

  get readyCount(): number {
    return this.#ready.length;
  }

  /** Why the last child failed to start, for the health report. */
  get lastFailure(): string {
    return this.#lastFailure;
  }

  /**
   * A ready child initialized with exactly these initialize params, or undefined (the caller
   * spawns a child of its own). Synchronous: the child cannot exit between here and adoption.
   */
  take(params: unknown): InitializedChild | undefined {
    if (this.#closed) return undefined;
    const key = templateKey(params);
    if (key === undefined) return undefined;
    if (key !== this.#key) {
      this.#switchTo(params);
      return undefined;
    }
    let taken: Waiting | undefined;
    while ((taken = this.#ready.shift()) !== undefined && !taken.child.alive);
    setImmediate(() => this.#fill());
    return taken;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#refillTimer);
    const ready = this.#ready.splice(0);
    await Promise.allSettled(ready.map((waiting) => waiting.child.terminate()));
  }

  #switchTo(params: unknown): void {
    const template = templateFrom(params);
    if (template === undefined) return;
    this.#template = template;
    this.#key = templateKey(template)!;
    this.#log.info({ protocolVersion: template.protocolVersion }, 'warm pool now initializes children like the latest client');
    for (const stale of this.#ready.splice(0)) void stale.child.terminate();
    this.#fill();
  }

  #fill(): void {
    if (this.#closed || this.#refillTimer !== undefined) return;
    const missing = this.#options.size - this.#ready.length - this.#starting;
    if (missing <= 0) return;
    if (this.#failures > 0) {
      // A command that cannot start would otherwise be respawned in a tight loop.
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.#failures - 1));
      this.#refillTimer = setTimeout(() => {
        this.#refillTimer = undefined;
        this.#startOne();
      }, delay);
      this.#refillTimer.unref();
      return;
    }
    for (let i = 0; i < missing; i++) this.#startOne();
  }

  #startOne(): void {
    if (this.#closed) return;
    this.#starting++;
    const key = this.#key;
    const { launch, initializeTimeoutMs } = this.#options;
    void startInitializedChild({
      launch,
      logger: this.#log,
      template: this.#template,
      timeoutMs: initializeTimeoutMs,
      maxMessageBytes: this.#options.maxMessageBytes,
    }).then((outcome) => {
      this.#starting--;
      if (!outcome.ok) {
        this.#failures++;
        this.#lastFailure = outcome.detail;
        this.#log.warn({ detail: outcome.detail, failures: this.#failures }, 'warm pool could not start an MCP server');
        this.#fill();
        return;
      }
      this.#failures = 0;
      const waiting: Waiting = { ...outcome.value, key };
      if (this.#closed || key !== this.#key) {
        void waiting.child.terminate();
        this.#fill();
        return;
      }
      waiting.child.rebind({
        logger: this.#log,
        onMessage: (envelope, line) => {
          if (waiting.early.length < MAX_EARLY_MESSAGES) waiting.early.push({ envelope, line });
        },
        onClose: () => {
          const index = this.#ready.indexOf(waiting);
          if (index === -1) return;
          this.#ready.splice(index, 1);
          this.#failures++;
          this.#lastFailure = 'a pooled server exited while idle';
          this.#log.warn('a pooled MCP server exited while idle');
          this.#fill();
        },
      });
      this.#ready.push(waiting);
      this.#fill();
    });
  }
}
