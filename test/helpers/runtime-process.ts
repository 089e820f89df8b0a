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
 * `mcp-gateway runtime ...` as a real child process, configured by env as in a container;
 * stopped by PID with a signal (SIGKILL if it lingers).
 */
export class RuntimeProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly args: string[],
    readonly env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, ['bin/mcp-gateway.js', 'runtime', ...args], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...cleanEnv(), LOG_LEVEL: 'info', ...env } });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The JSON log lines written so far. */
  logLines(): Array<Record<string, unknown>> {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Resolves once `GET url` answers 200; throws with the process output if it exits or times out first. */
  async waitHealthy(url: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`runtime ${this.args.join(' ')} exited (${this.child.exitCode}):\n${this.stdout}\n${this.stderr}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`runtime ${this.args.join(' ')} never became healthy at ${url}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
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
}
