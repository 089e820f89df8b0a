import { rotateKeyFile } from '../../runtime/auth/tokens/signing-keys.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { withProjectLock } from '../../runtime/config/project-lock.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { processOutput, type CliOutput } from '../output.js';

export interface KeysRotateOptions {
  dir: string;
  json?: boolean | undefined;
}

/** Old keys verify for one access-token lifetime after they stop signing, plus this much clock skew. */
const SKEW_MS = 5 * 60_000;

/**
 * `mcp-gateway keys rotate`: a new signing key in `.secrets/signing-keys.json`; the old ones
 * keep verifying until the tokens they signed have expired, then a later rotation drops them.
 */
export async function runKeysRotate(options: KeysRotateOptions, out: CliOutput = processOutput): Promise<void> {
  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  const retireAfterMs = config.tokens.accessTokenTtl + SKEW_MS;
  // Under the project lock: two rotations at once must not each drop the other's new key.
  const result = await withProjectLock(paths.dir, () => rotateKeyFile(paths.signingKeys, { retireAfterMs }));
  if (options.json) {
    out.stdout(`${JSON.stringify(result)}\n`);
    return;
  }
  const lines = [`new signing key ${result.newKid} (written to ${paths.signingKeys}, mode 0600)`];
  for (const key of result.verifying) lines.push(`  still verifying ${key.kid} (stopped signing ${key.retiredAt})`);
  for (const kid of result.removed) lines.push(`  removed ${kid} (every token it signed has expired)`);
  lines.push(
    'A running `mcp-gateway serve` signs with the new key after `mcp-gateway reload` (SIGUSR2) or a restart (it also reloads on its own when it sees a token from the new key);',
    'tokens signed with the previous keys stay valid until they expire.',
  );
  out.stdout(`${lines.join('\n')}\n`);
}
