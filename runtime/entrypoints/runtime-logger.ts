import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { pino, type DestinationStream } from 'pino';
import { createLogger, type Logger } from '../logger.js';

export interface RuntimeLogger {
  logger: Logger;
  /** The file lines are also appended to, when the log directory was writable. */
  logFile: string | undefined;
}

/**
 * JSON lines (pino) on stdout for `docker logs`, and appended to `<logDir>/<service>.log` when
 * the compose file mounts the project's `./logs` there (MCPGW_LOG_DIR). A directory that is
 * missing or read-only costs a warning, never the start: stdout still has every line.
 */
export function createRuntimeLogger(service: string, { logDir, level }: { logDir?: string | undefined; level?: string | undefined } = {}): RuntimeLogger {
  // Each stream takes every level; the logger's own level decides what is written.
  const streams: Array<{ stream: DestinationStream; level: 'trace' }> = [{ stream: process.stdout, level: 'trace' }];
  let logFile: string | undefined;
  let fileProblem: string | undefined;
  if (logDir !== undefined && logDir !== '') {
    const path = join(logDir, `${service}.log`);
    try {
      accessSync(logDir, constants.W_OK);
      // Synchronous appends: a line is on disk before the process can exit, and runtimes log little.
      streams.push({ stream: pino.destination({ dest: path, append: true, sync: true }), level: 'trace' });
      logFile = path;
    } catch (err) {
      fileProblem = `${path}: ${(err as Error).message}`;
    }
  }
  const base = createLogger({ ...(level === undefined ? {} : { level }), destination: pino.multistream(streams) });
  const logger = base.child({ runtime: service });
  if (fileProblem !== undefined) logger.warn({ event: 'log_dir_unwritable', detail: fileProblem }, 'MCPGW_LOG_DIR is not writable; logging to stdout only');
  return { logger, logFile };
}
