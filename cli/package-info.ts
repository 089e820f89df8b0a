import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The npm name the CLI is published under (`npm install -g`, `npx`). Not `mcp-gateway`: that name
 * on npm belongs to another project; the `mcp-gateway` command is a second bin of this package.
 */
export const PACKAGE_NAME = 'mcp-oauth-gateway';

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
  if (found === undefined) throw new TypeError(`the ${PACKAGE_NAME} package.json was not found above the CLI`);
  return found.root;
}

function findPackage(): { root: string; version: string } | undefined {
  let url = new URL('./', import.meta.url);
  for (let depth = 0; depth < 4; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return { root: fileURLToPath(url), version: pkg.version };
    } catch {
      // not at this level; keep walking up
    }
    url = new URL('../', url);
  }
  return undefined;
}
