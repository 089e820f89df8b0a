import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { stdioLine } from '../bridge/stdio-line.js';

export interface MemberLaunch {
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/** How long a member has to leave after its stdin ends, and then after SIGTERM. */
const EXIT_GRACE_MS = 2_000;

/**
 * The stdio transport from an aggregate to one of its members. Written here rather than taken
 * from the SDK because its StdioClientTransport writes `JSON.stringify(message)` as it is: a
 * string holding U+2028 reaches a member whose line reader ends lines there as two messages, the
 * second unscreened (stdio-line.ts). Reading uses the SDK's own ReadBuffer; the environment is
 * exactly the one given (the SDK's adds HOME, PATH and others of the aggregate's).
 */
export class MemberStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** The member's stderr, readable before start() so no early line is lost. */
  readonly stderr = new PassThrough();
  readonly #launch: MemberLaunch;
  readonly #buffer = new ReadBuffer();
  #child: ChildProcessWithoutNullStreams | undefined;

  constructor(launch: MemberLaunch) {
    this.#launch = launch;
  }

  start(): Promise<void> {
    if (this.#child !== undefined) throw new Error('this member transport was started already');
    const { command, args, env, cwd } = this.#launch;
    const child = spawn(command, [...args], { env, stdio: 'pipe', ...(cwd === undefined ? {} : { cwd }) });
    this.#child = child;
    child.stderr.pipe(this.stderr);
    child.stdin.on('error', (err) => this.onerror?.(err));
    child.stdout.on('error', (err) => this.onerror?.(err));
    child.stdout.on('data', (chunk: Buffer) => this.#read(chunk));
    child.on('close', () => this.onclose?.());
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => {
        reject(err);
        this.onerror?.(err);
      });
    });
  }

  #read(chunk: Buffer): void {
    try {
      this.#buffer.append(chunk);
    } catch (err) {
      // More than the buffer holds without a newline: the member is not speaking JSON-RPC lines.
      this.onerror?.(err as Error);
      void this.close();
      return;
    }
    for (;;) {
      try {
        const message = this.#buffer.readMessage();
        if (message === null) return;
        this.onmessage?.(message);
      } catch (err) {
        this.onerror?.(err as Error); // one malformed line; the next may be fine
      }
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (stdin === undefined || stdin.destroyed) return Promise.reject(new Error('the member is not running'));
    const written = stdin.write(`${stdioLine(JSON.stringify(message))}\n`);
    return written ? Promise.resolve() : new Promise((resolve) => stdin.once('drain', () => resolve()));
  }

  /** Ends the member's stdin, then SIGTERM and SIGKILL if it lingers; resolves once it has exited. */
  async close(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stdin.end();
    const term = setTimeout(() => child.kill('SIGTERM'), EXIT_GRACE_MS);
    const kill = setTimeout(() => child.kill('SIGKILL'), 2 * EXIT_GRACE_MS);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}
