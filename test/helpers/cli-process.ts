import { spawn, type ChildProcess } from 'node:child_process';
import { PACKAGE_ROOT } from './cli-run.js';

/**
 * A CLI command that keeps running while the test acts (e.g. `github register` waiting for the
 * browser): stdout is watched for the lines the test needs, and the exit code awaited.
 * Variables that change the CLI's behaviour are removed from the inherited environment.
 */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], options: { env?: Record<string, string> } = {}) {
    const env = { ...process.env };
    delete env['MCP_GATEWAY_GITHUB_CLIENT_SECRET'];
    delete env['MCP_GATEWAY_OIDC_CLIENT_SECRET'];
    delete env['MCP_GATEWAY_DEBUG'];
    this.child = spawn(process.execPath, ['bin/mcp-gateway.js', ...args], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...options.env } });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** The first match of `pattern` in stdout; fails when the process exits or time runs out first. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.stdout);
      if (match) return match;
      if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops it (by PID) if it still runs. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
