import { cp, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, PACKAGE_ROOT } from './cli-run.js';

/**
 * The built package as it is now (bin/, dist/, templates/, package.json; node_modules linked),
 * for the CLI to run from: the runtime image holds dist/, so an `npm run build` elsewhere during
 * a test (a watcher, another session on a shared machine) would otherwise change the image
 * between two `up`s and recreate everything. Remove it with removeTempDir.
 */
export async function freezePackage(): Promise<string> {
  const root = await makeTempDir('mcpgw-package-');
  for (const entry of ['bin', 'dist', 'templates', 'package.json']) await cp(join(PACKAGE_ROOT, entry), join(root, entry), { recursive: true });
  await symlink(join(PACKAGE_ROOT, 'node_modules'), join(root, 'node_modules'));
  return root;
}
