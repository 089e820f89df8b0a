/** How serve writes its logs: short readable lines for a person, or JSON lines (pino) for a collector. */
export const LOG_FORMATS = ['pretty', 'json'] as const;

export type LogFormat = (typeof LOG_FORMATS)[number];

interface MaybeTerminal {
  isTTY?: boolean | undefined;
}

/**
 * Pretty only when a person watches both streams: with stdout piped (`serve | tee`, systemd,
 * Docker) or the logs on stderr redirected to a file, whatever reads them wants JSON lines.
 */
export function defaultLogFormat({ stdout, stderr }: { stdout: MaybeTerminal; stderr: MaybeTerminal }): LogFormat {
  return stdout.isTTY === true && stderr.isTTY === true ? 'pretty' : 'json';
}
