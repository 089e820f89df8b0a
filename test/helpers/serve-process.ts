import { CliProcess } from './cli-process.js';

/** `mcp-gateway serve` as a real child process (see CliProcess), logging at info. */
export class ServeProcess extends CliProcess {
  constructor(args: string[]) {
    super(['serve', ...args], { env: { LOG_LEVEL: 'info' } });
  }
}

export { isAlive } from './bridge-harness.js';
