import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogFormat } from './logging/log-format.js';
import { urlsAsText } from './logging/loggable-values.js';
import { prettyLogStream } from './logging/pretty-log-stream.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
  /** `json` (default): JSON lines; `pretty`: one readable line per entry, for a terminal. */
  format?: LogFormat;
  /** Colour in the pretty format; the caller decides (a terminal, and no NO_COLOR). */
  color?: boolean;
}

/**
 * JSON lines (pino), or readable lines made from them. Anything that could carry a credential
 * is redacted at the logger, before either format is written, so a careless `log.info({ req })`
 * cannot leak a token or secret to a file or to the terminal.
 */
export function createLogger({ level = process.env['LOG_LEVEL'] ?? 'info', destination, format = 'json', color = false }: LoggerOptions = {}): Logger {
  const options = {
    level,
    base: { service: 'mcp-gateway' },
    formatters: { log: (object: Record<string, unknown>) => urlsAsText(object) as Record<string, unknown> },
    redact: {
      paths: [
        'authorization',
        '*.authorization',
        'headers.authorization',
        '*.headers.authorization',
        'headers.cookie',
        '*.headers.cookie',
        'token',
        '*.token',
        'access_token',
        'refresh_token',
        'client_secret',
        'code_verifier',
        '*.client_secret',
      ],
      censor: '[redacted]',
    },
  };
  if (format === 'pretty') return pino(options, prettyLogStream({ target: destination ?? process.stdout, color }));
  return destination ? pino(options, destination) : pino(options);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
