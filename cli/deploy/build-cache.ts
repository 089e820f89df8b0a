import { createHash } from 'node:crypto';
import { readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '../../runtime/fs/atomic-write.js';
import { mapLimited } from '../map-limited.js';
import type { AppSources } from './production-deps.js';

/**
 * What the last render copied into build/app/ and the hash it computed of build/, kept at the
 * root of the deploy folder (outside build/, so neither the hash nor the image build context sees
 * it). A rerender whose inputs are the same (the package's own files by path, size, mtime and
 * mode; each dependency by where it is installed and its package.json's size and mtime, as npm
 * rewrites that on every install) and the same Dockerfiles moves the previous app/ into the new folder instead of copying and hashing some
 * thousands of files again: that was most of a no-op `up` (about 19 s on a loaded host).
 */
export const BUILD_INPUTS_FILE = '.build-inputs.json';

interface BuildInputsRecord {
  fingerprint: string;
  contextHash: string;
}

/** Cheap identity of the build context's inputs: stats, not contents (as make does). */
export async function buildInputsFingerprint(sources: AppSources, extra: unknown): Promise<string> {
  const entries = [
    ...sources.own.map(({ from, to }) => ({ key: to, file: from })),
    ...sources.packages.map((pkg) => ({ key: `${pkg.target}\0${pkg.dir}`, file: join(pkg.dir, 'package.json') })),
  ];
  const stats = new Map<string, string>();
  await mapLimited(entries, 64, async ({ key, file }) => {
    const info = await stat(file);
    stats.set(key, `${info.size}:${info.mtimeMs}:${info.mode & 0o111 ? 'x' : '-'}`);
  });
  const hash = createHash('sha256').update(JSON.stringify(extra));
  for (const { key } of entries) hash.update(`${key}\0${stats.get(key)!}\n`);
  return hash.digest('hex');
}

/**
 * Moves `previousDeploy`/build/app into `buildDir`/app when the previous render recorded the same
 * fingerprint, and returns the context hash it recorded; undefined (nothing moved) otherwise.
 */
export async function reusePreviousApp(previousDeploy: string | undefined, buildDir: string, fingerprint: string): Promise<string | undefined> {
  if (previousDeploy === undefined) return undefined;
  let record: BuildInputsRecord;
  try {
    record = JSON.parse(await readFile(join(previousDeploy, BUILD_INPUTS_FILE), 'utf8')) as BuildInputsRecord;
  } catch {
    return undefined;
  }
  if (record.fingerprint !== fingerprint || typeof record.contextHash !== 'string') return undefined;
  try {
    await rename(join(previousDeploy, 'build', 'app'), join(buildDir, 'app'));
  } catch {
    // Gone (a failed render moved it and could not put it back): copy as usual.
    return undefined;
  }
  return record.contextHash;
}

/** Puts a moved app/ back where it came from (the render failed after reusePreviousApp). */
export async function returnPreviousApp(previousDeploy: string, buildDir: string): Promise<void> {
  await rename(join(buildDir, 'app'), join(previousDeploy, 'build', 'app')).catch(() => {});
}

export async function recordBuildInputs(deployDir: string, record: BuildInputsRecord): Promise<void> {
  await atomicWriteFile(join(deployDir, BUILD_INPUTS_FILE), `${JSON.stringify(record)}\n`);
}
