import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

/**
 * JSON lines (pino). Anything that could carry a credential is redacted at the logger, so a
 * careless `log.info({ req })` cannot leak a token or secret.
 */
export function createLogger({ level = process.env['LOG_LEVEL'] ?? 'info', destination }: LoggerOptions = {}): Logger {
  const options = {
    level,
    base: { service: 'mcp-gateway' },
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
  return destination ? pino(options, destination) : pino(options);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
