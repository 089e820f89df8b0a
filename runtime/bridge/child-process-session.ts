import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { LineSplitter } from './line-splitter.js';
import { toEnvelope, type Envelope, type RequestId } from './json-rpc.js';
import { LogRateLimit } from './log-rate-limit.js';
import { forgetGroup, groupAlive, signalGroup, trackGroup } from './process-group.js';
import { MAX_JSON_DEPTH, jsonNestedTooDeep } from '../http/json-depth.js';
import { DEFAULT_MAX_MESSAGE_BYTES, describeByEnds } from './oversized-message.js';
import { reclaimAfterOversizedMessage } from './reclaim-memory.js';
import { stdioLine } from './stdio-line.js';

export interface StdioLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Where a child's output goes; replaced when a warm-pool child is handed to a session. */
export interface ChildHandlers {
  /** Already bound to `{ server, session }` (or `{ server, pool }` while the child waits in the pool). */
  logger: Logger;
  /** One JSON-RPC message from stdout, with its line as received (relayed without re-serialising). */
  onMessage(message: Envelope, line: string): void;
  /** Called once, after the process has exited and its stdout has been read to the end. */
  onClose(exit: ChildExit): void;
  /** Each stderr line (truncated, before the log's rate limit): the health probe quotes the last one. */
  onStderrLine?(line: string): void;
  /** A stdout line over maxMessageBytes, once it has ended (it was logged and not delivered). */
  onOversized?(message: OversizedChildMessage): void;
}

/** What is known of a stdout line that was too long to read: see describeByEnds. */
export interface OversizedChildMessage {
  id: RequestId | undefined;
  /** A request or notification from the server rather than a response. */
  hasMethod: boolean;
  bytes: number;
  limit: number;
}

export interface ChildProcessSessionOptions extends ChildHandlers {
  launch: StdioLaunch;
  killGraceMs?: number | undefined;
  /** Longer stdout lines are skipped as they arrive and reported to onOversized. */
  maxMessageBytes?: number | undefined;
}

const DEFAULT_KILL_GRACE_MS = 2_000;
const STDERR_MAX_LINE_BYTES = 4 * 1024;
const LOGGED_HEAD_CHARS = 200;

/**
 * One stdio MCP server process. Spawned `detached` so it leads its own process group: `npx`
 * and `uvx` start the real server as a grandchild, and killing only the direct child would
 * leave that grandchild running. Termination therefore signals the whole group.
 */
export class ChildProcessSession {
  readonly pid: number;
  readonly closed: Promise<ChildExit>;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #options: ChildProcessSessionOptions;
  #handlers: ChildHandlers;
  #log: Logger;
  readonly #graceMs: number;
  #exit: ChildExit | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #corked = false;

  static async start(options: ChildProcessSessionOptions): Promise<ChildProcessSession> {
    const { command, args, env, cwd } = options.launch;
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    await new Promise<void>((resolve, reject) => {
      const onSpawn = (): void => {
        child.off('error', onError);
        resolve();
      };
      const onError = (err: NodeJS.ErrnoException): void => {
        child.off('spawn', onSpawn);
        reject(spawnFailure(options.launch, err));
      };
      child.once('spawn', onSpawn);
      child.once('error', onError);
    });
    return new ChildProcessSession(child, options);
  }

  private constructor(child: ChildProcessWithoutNullStreams, options: ChildProcessSessionOptions) {
    if (child.pid === undefined) throw new TypeError('spawned child has no pid');
    this.pid = child.pid;
    this.#child = child;
    this.#options = options;
    const { logger, onMessage, onClose, onStderrLine, onOversized } = options;
    this.#handlers = { logger, onMessage, onClose, ...(onStderrLine ? { onStderrLine } : {}), ...(onOversized ? { onOversized } : {}) };
    this.#log = options.logger;
    this.#graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    trackGroup(this.pid);

    child.on('error', (err) => this.#log.warn({ err }, 'MCP server process error'));
    // EPIPE after the child died: the exit handler reports it, a write error adds nothing.
    child.stdin.on('error', (err) => this.#log.debug({ err }, 'MCP server stdin closed'));
    this.#readStdout();
    this.#readStderr();

    this.closed = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        // The server is gone; anything it left in its group (a crashed npx's grandchild) goes too.
        this.#killGroup();
        // Its stdout may still hold the last lines; 'close' comes once they are read, unless a
        // grandchild keeps the pipe open, so do not wait for that longer than the kill grace.
        const pipeTimer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, this.#graceMs + 500);
        pipeTimer.unref();
        child.once('close', () => {
          clearTimeout(pipeTimer);
          resolve({ code, signal });
        });
      });
    });
    this.closed.then((exit) => this.#handlers.onClose(exit)).catch((err: unknown) => this.#log.error({ err }, 'MCP server close handler failed'));
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  /**
   * Bytes written to stdin that the child has not read yet. The pipe holds 64 KiB; past that Node
   * queues in memory, so the bridge checks this before writing and refuses work for a child that
   * stopped reading rather than growing without bound.
   */
  get queuedBytes(): number {
    return this.#child.stdin.writableLength;
  }

  /** Sends the child's output elsewhere from now on (a warm-pool child joining a session). */
  rebind(handlers: ChildHandlers): void {
    this.#handlers = handlers;
    this.#log = handlers.logger;
  }

  /** Writes one message; `line` must not contain a newline (U+2028/U+2029 are escaped here, stdio-line.ts). */
  send(line: string): void {
    if (this.#exit !== undefined || this.#child.stdin.destroyed) return;
    // Messages written in one turn of the event loop (several requests of one session arriving
    // together) leave in one write at the check phase, which runs right after this turn's I/O:
    // one syscall and one wake-up of the child instead of several. Measured with bench/: 7-15%
    // more calls/s at 8 x 4 than writing the first message of a turn at once, and the same p50.
    if (!this.#corked) {
      this.#corked = true;
      this.#child.stdin.cork();
      setImmediate(this.#uncork);
    }
    this.#child.stdin.write(`${stdioLine(line)}\n`);
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#child.stdin.uncork();
  };

  /** SIGTERM to the group, SIGKILL after the grace period; resolves once the process is reaped. */
  terminate(): Promise<ChildExit> {
    if (this.#exit === undefined) {
      this.#child.stdin.end();
      this.#killGroup();
    }
    return this.closed;
  }

  #killGroup(): void {
    if (this.#killTimer !== undefined) return;
    if (!signalGroup(this.pid, 'SIGTERM')) {
      // The child may have moved itself to another group (setsid); signal it directly.
      if (this.#exit === undefined) this.#child.kill('SIGTERM');
    }
    this.#killTimer = setTimeout(() => {
      if (groupAlive(this.pid)) {
        this.#log.warn({ pid: this.pid }, 'MCP server ignored SIGTERM; sending SIGKILL');
        signalGroup(this.pid, 'SIGKILL');
      }
      if (this.#exit === undefined) this.#child.kill('SIGKILL');
      forgetGroup(this.pid);
    }, this.#graceMs);
    // Do not hold the event loop open; the exit hook above covers a gateway that exits first.
    this.#killTimer.unref();
    void this.closed.then(() => {
      if (groupAlive(this.pid)) return; // the timer above still has work to do
      clearTimeout(this.#killTimer);
      forgetGroup(this.pid);
    });
  }

  #readStdout(): void {
    const junk = new LogRateLimit((suppressed) => this.#log.warn({ stream: 'stdout', suppressed }, 'MCP server stdout junk lines not logged (rate limit)'));
    const handleLine = (line: string): void => {
      // A hostile server's deep batch would make JSON.stringify below throw in a stdout handler,
      // which takes the whole gateway down (json-depth.ts).
      if (jsonNestedTooDeep(line)) {
        if (junk.admit())
          this.#log.warn(
            { stream: 'stdout', line: line.slice(0, LOGGED_HEAD_CHARS) },
            `skipping JSON nested deeper than ${MAX_JSON_DEPTH} levels from MCP server`,
          );
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        if (junk.admit()) this.#log.warn({ stream: 'stdout', line: line.slice(0, LOGGED_HEAD_CHARS) }, 'skipping non-JSON line from MCP server');
        return;
      }
      // stdio in 2025-03-26 allowed batches; later revisions send one message per line.
      if (!Array.isArray(value)) {
        const envelope = toEnvelope(value);
        if (envelope !== undefined) this.#handlers.onMessage(envelope, line);
        else if (junk.admit()) this.#log.warn({ stream: 'stdout', line: line.slice(0, LOGGED_HEAD_CHARS) }, 'skipping non-JSON-RPC message from MCP server');
        return;
      }
      for (const item of value) {
        const envelope = toEnvelope(item);
        if (envelope !== undefined) this.#handlers.onMessage(envelope, JSON.stringify(item));
        else if (junk.admit()) this.#log.warn({ stream: 'stdout', line: line.slice(0, LOGGED_HEAD_CHARS) }, 'skipping non-JSON-RPC message from MCP server');
      }
    };
    const limit = this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const splitter = new LineSplitter({
      maxLineBytes: limit,
      onLine: handleLine,
      onOverflow: (line) => {
        const { id, hasMethod } = describeByEnds(line);
        this.#log.warn(
          { stream: 'stdout', bytes: line.bytes, maxMessageBytes: limit, id, head: line.head.toString('utf8', 0, LOGGED_HEAD_CHARS) },
          'skipped a message from the MCP server larger than maxMessageBytes',
        );
        this.#handlers.onOversized?.({ id, hasMethod, bytes: line.bytes, limit });
        reclaimAfterOversizedMessage();
      },
    });
    this.#child.stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
    this.#child.stdout.on('end', () => {
      splitter.end();
      junk.flush();
    });
    this.#child.stdout.on('error', (err) => this.#log.debug({ err }, 'MCP server stdout error'));
  }

  /** stderr is for humans: lines are truncated to 4 KiB and rate-limited (LogRateLimit). */
  #readStderr(): void {
    const limit = new LogRateLimit((suppressed) => this.#log.warn({ stream: 'stderr', suppressed }, 'MCP server stderr lines dropped (rate limit)'));
    const splitter = new LineSplitter({
      maxLineBytes: STDERR_MAX_LINE_BYTES,
      overflowEndBytes: STDERR_MAX_LINE_BYTES,
      onLine: (line) => {
        this.#handlers.onStderrLine?.(line);
        if (limit.admit()) this.#log.info({ stream: 'stderr' }, line);
      },
      onOverflow: ({ head }) => {
        if (limit.admit()) this.#log.info({ stream: 'stderr', truncated: true }, head.toString('utf8'));
      },
    });
    this.#child.stderr.on('data', (chunk: Buffer) => splitter.push(chunk));
    this.#child.stderr.on('end', () => {
      splitter.end();
      limit.flush();
    });
    this.#child.stderr.on('error', (err) => this.#log.debug({ err }, 'MCP server stderr error'));
  }
}

function spawnFailure(launch: StdioLaunch, err: NodeJS.ErrnoException): GatewayError {
  const { command, cwd } = launch;
  const reason =
    err.code === 'ENOENT'
      ? cwd === undefined
        ? `command "${command}" not found`
        : `command "${command}" not found, or working directory "${cwd}" does not exist`
      : `could not run command "${command}" (${err.code ?? err.message})`;
  return new GatewayError('ERR_BRIDGE_SPAWN_FAILED', `Could not start the MCP server: ${reason}`, {
    hint: "Check the server's command, args and cwd in the config; the command must be on the PATH the gateway runs with.",
    cause: err,
  });
}
