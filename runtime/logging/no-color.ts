/**
 * Whether output to `stream` may carry colour: only a terminal gets escape codes, and never when
 * NO_COLOR is set. no-color.org: "when present and not an empty string", so `NO_COLOR=` keeps
 * colour (chalk and colorette treat an empty value as set; we follow the convention, not them).
 */
export function colorEnabled(stream: { isTTY?: boolean | undefined }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !noColorRequested(env);
}

export function noColorRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env['NO_COLOR'] ?? '') !== '';
}
