import type { DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { terminalSafe, terminalSafeValues } from './terminal-text.js';

export interface PrettyLogStreamOptions {
  /** Where the readable lines go (serve: stderr). */
  target: DestinationStream;
  /** Level and message colours; false writes no escape code at all (NO_COLOR, not a terminal). */
  color: boolean;
}

/**
 * A pino destination that writes each JSON line as one short line for a person:
 * `12:04:31 WARN: message {"key":"value"}`. pino has redacted the line before it gets here, so
 * both formats carry the same (redacted) values. pino-pretty's transform stream is not used:
 * it formats asynchronously, and the last lines before an exit would be lost; its formatter is
 * called synchronously instead.
 */
export function prettyLogStream({ target, color }: PrettyLogStreamOptions): DestinationStream {
  const prettify = prettyFactory({
    colorize: color,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    // pid, hostname and service say nothing to the person at this terminal; event is the
    // collector's key and stands in for a missing message below.
    ignore: 'pid,hostname,service,event',
    messageFormat: (log, messageKey) => String(log[messageKey] ?? log['event'] ?? ''),
  });
  return {
    write(line: string) {
      let log: unknown;
      try {
        log = JSON.parse(line);
      } catch {
        target.write(`${terminalSafe(line)}\n`);
        return;
      }
      // Values are made safe before formatting: the formatter's own colour codes must survive.
      target.write(prettify(terminalSafeValues(log)));
    },
  };
}
