import { readFileSync } from 'node:fs';

/**
 * The version in package.json. The compiled file lives in dist/cli/, the source in cli/, so
 * walk up rather than hard-code the depth.
 */
export function packageVersion(): string {
  let url = new URL('./', import.meta.url);
  for (let depth = 0; depth < 4; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'mcp-gateway' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this level; keep walking up
    }
    url = new URL('../', url);
  }
  return '0.0.0-unknown';
}
