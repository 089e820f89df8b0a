import { GatewayError } from '../runtime/errors.js';
import { serverSchema } from '../runtime/config/schema.js';

/** Whether the config schema accepts `name` as an environment variable name (one rule, kept there). */
function isValidEnvName(name: string): boolean {
  return serverSchema.safeParse({ command: 'x', env: { [name]: '' } }).success;
}

/** Parses repeated `--env K=V` flags; the value may itself contain `=`. Later flags win. */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq === -1) {
      throw new GatewayError('ERR_USAGE', `--env ${pair} has no "="`, { hint: 'write --env NAME=VALUE (use --env NAME= for an empty value)' });
    }
    const name = pair.slice(0, eq);
    if (!isValidEnvName(name)) {
      throw new GatewayError('ERR_USAGE', `--env ${name === '' ? '(empty name)' : name}: not a valid environment variable name`, {
        hint: 'names use letters, digits and underscores and do not start with a digit, e.g. --env API_KEY=...',
      });
    }
    env[name] = pair.slice(eq + 1);
  }
  return env;
}
