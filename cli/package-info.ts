import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The version in package.json. The compiled file lives in dist/cli/, the source in cli/, so
 * walk up rather than hard-code the depth.
 */
export function packageVersion(): string {
  return findPackage()?.version ?? '0.0.0-unknown';
}

/** The installed package's folder (templates/, bin/, dist/, node_modules), which `render` copies from. */
export function packageRoot(): string {
  const found = findPackage();
  if (found === undefined) throw new TypeError('the mcp-gateway package.json was not found above the CLI');
  return found.root;
}

function findPackage(): { root: string; version: string } | undefined {
  let url = new URL('./', import.meta.url);
  for (let depth = 0; depth < 4; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'mcp-gateway' && typeof pkg.version === 'string') return { root: fileURLToPath(url), version: pkg.version };
    } catch {
      // not at this level; keep walking up
    }
    url = new URL('../', url);
  }
  return undefined;
}
