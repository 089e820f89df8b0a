import { CliProcess } from './cli-process.js';

/** `mcp-gateway serve` as a real child process (see CliProcess), logging at info. */
export class ServeProcess extends CliProcess {
  constructor(args: string[]) {
    super(['serve', ...args], { env: { LOG_LEVEL: 'info' } });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
