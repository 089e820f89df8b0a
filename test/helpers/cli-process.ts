import { spawn, type ChildProcess } from 'node:child_process';
import { PACKAGE_ROOT } from './cli-run.js';

/** The inherited environment without anything that configures the gateway, so each test says what it sets. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('MCPGW_') && !key.startsWith('MCP_GATEWAY_')) env[key] = value;
  }
  return env;
}

/**
 * A CLI command that keeps running while the test acts (`serve`, `runtime ...`, `github register`
 * waiting for the browser): stdout is watched for the lines the test needs, the exit awaited, and
 * the process stopped by PID with a signal (SIGKILL if it lingers). Variables that change the
 * CLI's behaviour are removed from the inherited environment.
 */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly args: string[],
    options: { env?: Record<string, string> } = {},
  ) {
    this.child = spawn(process.execPath, ['bin/mcp-gateway.js', ...args], {
      cwd: PACKAGE_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...cleanEnv(), ...options.env },
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    // 'close', not 'exit': by then everything the process wrote has been read.
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first match of `pattern` in stdout at or after `from`; fails when the process exits or time runs out first. */
  async waitFor(pattern: RegExp, { from = 0, timeoutMs = 15_000 }: { from?: number; timeoutMs?: number } = {}): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.stdout.slice(from));
      if (match) return match;
      if (this.child.exitCode !== null)
        throw new Error(`${this.args.join(' ')} exited (${this.child.exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops it at once (by PID) if it still runs. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
