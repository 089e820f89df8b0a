import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway project directory for an in-process gateway. Stdio servers run sandboxed with the
 * project directory hidden, so it must not be the repository (that would hide the fixtures) and
 * their data directories must not land in the checkout.
 */
export function tempProjectDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-project-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
