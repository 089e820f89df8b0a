import { readFile } from 'node:fs/promises';
import { GatewayError } from '../../../runtime/errors.js';
import type { ComposeService } from './compose-model.js';
import { parseEnvFile } from './env-file.js';

/**
 * The environment a service's container gets: its env files in order (secrets written by
 * `render`, read here on the host and passed as Env, never baked into an image), then
 * `environment:`, which wins. Values never appear in errors: only file names and line numbers.
 */
export async function serviceEnvironment(
  service: ComposeService,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const file of service.envFiles) {
    let text: string;
    try {
      text = await readFile(file.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        if (!file.required) continue;
        throw new GatewayError('ERR_SECRET_MISSING', `service ${service.name}: its env file ${file.path} does not exist`, {
          hint: 'run `mcp-gateway render` (or `mcp-gateway up`, which renders first) to write the deploy folder with its secrets',
        });
      }
      throw new GatewayError(
        'ERR_SECRET_MISSING',
        `service ${service.name}: cannot read its env file ${file.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        {
          hint: 'the secrets are 0600 files of the user who ran render; run up as that user',
          cause: err,
        },
      );
    }
    const parsed = parseEnvFile(text, (key) => env[key]);
    if (!parsed.ok) {
      throw new GatewayError('ERR_COMPOSE_INVALID', `service ${service.name}: ${file.path} line ${parsed.line}: ${parsed.reason}`, {
        hint: 'render the deploy folder again with `mcp-gateway render`',
      });
    }
    for (const [key, value] of parsed.env) {
      result.delete(key);
      result.set(key, value);
    }
  }
  for (const [key, value] of Object.entries(service.environment)) {
    result.delete(key);
    result.set(key, value);
  }
  return result;
}
