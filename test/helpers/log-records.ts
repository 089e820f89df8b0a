import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../runtime/logger.js';

export interface LogRecords {
  /** A JSON logger (info and up) whose lines land in `records`. */
  logger: Logger;
  /** Every line written so far, parsed, oldest first. */
  records: Array<Record<string, unknown>>;
}

/** A logger whose JSON lines a test reads back (audit lines, one-time login codes, warnings). */
export function logRecords(): LogRecords {
  const records: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), records };
}
