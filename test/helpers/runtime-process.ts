import { CliProcess } from './cli-process.js';

/**
 * `mcp-gateway runtime ...` as a real child process (see CliProcess), configured by env as in a
 * container.
 */
export class RuntimeProcess extends CliProcess {
  constructor(runtimeArgs: string[], env: Record<string, string>) {
    super(['runtime', ...runtimeArgs], { env: { LOG_LEVEL: 'info', ...env } });
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
      if (this.child.exitCode !== null) throw new Error(`${this.args.join(' ')} exited (${this.child.exitCode}):\n${this.stdout}\n${this.stderr}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.args.join(' ')} never became healthy at ${url}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
