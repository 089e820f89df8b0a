import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';

/**
 * Base images for the Docker tests on a host without a registry (DESIGN.md, "This build
 * machine"): `FROM scratch` holding the host's own binaries and every library `ldd` lists for
 * them. Tagged by a hash of that content, so they are built once and reused across runs; a new
 * tag (node or redis upgraded) prunes the older ones of the same repository.
 */

/** Images built from these carry it (and so do images built FROM them): the tests may prune those. */
export const TEST_BASE_LABEL = 'io.mcp-gateway.test-base';

export interface ScratchImageSpec {
  /** Repository of the tag, e.g. `mcpgw-test-node`. */
  repository: string;
  /** Host binaries and where they go in the image (the file is copied, symlinks resolved). */
  binaries: Array<{ from: string; to: string }>;
  /** Empty directories to create, with their mode (e.g. /tmp 1777, /data 0777). */
  dirs?: Array<{ path: string; mode: number }>;
}

const run = promisify(execFile);

export async function buildScratchImage(docker: Docker, spec: ScratchImageSpec): Promise<string> {
  const files = new Map<string, string>(); // path in image -> host file
  for (const binary of spec.binaries) {
    files.set(binary.to, await realpath(binary.from));
    for (const library of await sharedLibraries(binary.from)) files.set(library, await realpath(library));
  }
  const hash = createHash('sha256');
  for (const [to, from] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`${to}\0`);
    await new Promise<void>((resolve, reject) =>
      createReadStream(from)
        .on('data', (chunk) => hash.update(chunk))
        .on('end', resolve)
        .on('error', reject),
    );
  }
  hash.update(JSON.stringify(spec.dirs ?? []));
  const tag = `${spec.repository}:${hash.digest('hex').slice(0, 16)}`;
  if (await exists(docker, tag)) return tag;

  const context = await mkdtemp(join(tmpdir(), 'mcpgw-scratch-'));
  try {
    const rootfs = join(context, 'rootfs');
    for (const [to, from] of files) {
      await mkdir(dirname(join(rootfs, to)), { recursive: true });
      await copyFile(from, join(rootfs, to));
    }
    for (const binary of spec.binaries) await chmod(join(rootfs, binary.to), 0o755);
    for (const dir of spec.dirs ?? []) {
      await mkdir(join(rootfs, dir.path), { recursive: true });
      await chmod(join(rootfs, dir.path), dir.mode);
    }
    await writeFile(join(context, 'Dockerfile'), `FROM scratch\nCOPY rootfs/ /\nLABEL ${TEST_BASE_LABEL}="${spec.repository}"\n`);
    const stream = await docker.buildImage({ context, src: ['Dockerfile', 'rootfs'] }, { t: tag, rm: true, forcerm: true });
    const output = await new Promise<Array<{ error?: string; stream?: string }>>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, res: Array<{ error?: string }>) => (err ? reject(err) : resolve(res))),
    );
    const failed = output.find((entry) => entry.error);
    if (failed) throw new Error(`building ${tag} failed: ${failed.error}\n${output.map((e) => e.stream ?? '').join('')}`);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  await pruneOtherTags(docker, spec.repository, tag);
  return tag;
}

/** Paths of the shared libraries a binary loads, as `ldd` prints them (the loader included). */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  const paths = new Set<string>();
  for (const line of stdout.split('\n')) {
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match) paths.add(match[1]!);
  }
  return [...paths];
}

async function exists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the repository's other tags that no container uses (a cache of older binaries), and
 * its untagged images: two test files building the same tag at once leave the first one untagged.
 */
export async function pruneOtherTags(docker: Docker, repository: string, keep: string): Promise<void> {
  const remove = (name: string): Promise<unknown> =>
    docker
      .getImage(name)
      .remove()
      .catch(() => {});
  for (const image of await docker.listImages({ filters: { reference: [repository] } })) {
    for (const tag of image.RepoTags ?? []) if (tag !== keep) await remove(tag);
  }
  for (const image of await docker.listImages({ filters: { dangling: ['true'], label: [`${TEST_BASE_LABEL}=${repository}`] } })) await remove(image.Id);
}

/** The images of the test deployment: node (runtime base) and redis, built as DESIGN.md describes. */
export async function buildTestBaseImages(docker: Docker): Promise<{ node: string; redis: string }> {
  const node = await buildScratchImage(docker, {
    repository: 'mcpgw-test-node',
    binaries: [{ from: process.execPath, to: '/usr/local/bin/node' }],
    dirs: [{ path: '/tmp', mode: 0o1777 }],
  });
  // The compose file runs redis through `sh -c` and checks it with `redis-cli ... | grep`, as the official image allows.
  const redis = await buildScratchImage(docker, {
    repository: 'mcpgw-test-redis',
    binaries: [
      { from: await which('redis-server'), to: '/usr/local/bin/redis-server' },
      { from: await which('redis-cli'), to: '/usr/local/bin/redis-cli' },
      { from: '/bin/sh', to: '/bin/sh' },
      { from: await which('grep'), to: '/bin/grep' },
    ],
    dirs: [
      { path: '/data', mode: 0o777 },
      { path: '/tmp', mode: 0o1777 },
    ],
  });
  return { node, redis };
}

/** The binary's path on the host. redis-server is a symlink to redis-check-rdb, which picks its role by argv[0]: the copy keeps the name. */
async function which(name: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', `command -v ${name}`]);
  const path = stdout.trim();
  if (!path.startsWith('/')) throw new Error(`${name} not found on PATH`);
  return path;
}
