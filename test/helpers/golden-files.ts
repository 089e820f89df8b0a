import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const TEST_DIR = fileURLToPath(new URL('../', import.meta.url));

/**
 * Golden files: `actual` must equal the file `name` under `dir` (a folder of test/golden/), or,
 * with UPDATE_GOLDEN=1, is written there, to be reviewed in the diff like code.
 */
export async function expectGolden(dir: string, name: string, actual: string): Promise<void> {
  const file = join(dir, name);
  const shown = relative(TEST_DIR, file).split('\\').join('/');
  if (process.env['UPDATE_GOLDEN'] === '1') {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, actual);
    return;
  }
  const expected = await readFile(file, 'utf8').catch(() => `(test/${shown} is missing)`);
  expect(actual, `test/${shown} differs; if the change is intended, run with UPDATE_GOLDEN=1 and review the diff`).toBe(expected);
}
