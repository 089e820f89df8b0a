import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { GatewayError } from '../../../runtime/errors.js';
import { listFiles } from '../copy-tree.js';
import { mapLimited } from '../../map-limited.js';
import { dockerMessage } from './engine-error.js';
import { imageId } from './ensure-images.js';

/** On every image `mcp-gateway images build` makes: its kind (node, python, redis, traefik). */
export const LABEL_HOST_IMAGE = 'io.mcp-gateway.host-image';

/**
 * An image made `FROM scratch` out of files of this host: binaries with every shared library
 * `ldd` lists for them, whole folders (npm, Python's standard library), small generated files
 * (wrapper scripts) and empty folders. For hosts that reach no registry: the runtime images are
 * then built FROM these (their Dockerfiles have no RUN step that needs a registry).
 */
export interface HostImageSpec {
  kind: string;
  /** Repository of the tag; the tag is `<version>-<hash of the content>`. */
  repository: string;
  version: string;
  /** Host binaries and where they go (copied, links followed); their libraries go to the same paths as on the host. */
  binaries: Array<{ from: string; to: string }>;
  /** Host folders copied as a whole (but for paths `skip` matches); libraries of the `.so` files in them are added too. */
  trees?: Array<{ from: string; to: string; skip?: RegExp }>;
  /** Files written with this content (mode 0755 when `executable`). */
  files?: Array<{ to: string; content: string; executable?: boolean }>;
  links?: Array<{ to: string; target: string }>;
  dirs?: Array<{ path: string; mode: number }>;
  env?: Record<string, string>;
  entrypoint?: string[];
}

export interface HostImage {
  tag: string;
  /** False when an image of this exact content was already there. */
  built: boolean;
}

const run = promisify(execFile);

export async function buildHostImage(docker: Docker, spec: HostImageSpec): Promise<HostImage> {
  const copies = new Map<string, string>(); // path in image -> host file
  for (const binary of spec.binaries) {
    copies.set(binary.to, await realpath(binary.from));
    for (const library of await sharedLibraries(binary.from)) copies.set(library, await realpath(library));
  }
  for (const tree of spec.trees ?? []) {
    for (const file of await listFiles(tree.from, (path) => tree.skip?.test(path) ?? false)) {
      const from = join(tree.from, file);
      copies.set(`${tree.to}/${file}`, from);
      if (/\.so(?:\.|$)/.test(file)) for (const library of await sharedLibraries(from)) if (!copies.has(library)) copies.set(library, await realpath(library));
    }
  }
  const hash = createHash('sha256');
  for (const [to, from] of [...copies].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(`${to}\0${(await stat(from)).mode & 0o111 ? 'x' : '-'}`);
    await new Promise<void>((resolve, reject) =>
      createReadStream(from)
        .on('data', (chunk) => hash.update(chunk))
        .on('end', resolve)
        .on('error', reject),
    );
  }
  hash.update(JSON.stringify([spec.files ?? [], spec.links ?? [], spec.dirs ?? [], spec.env ?? {}, spec.entrypoint ?? []]));
  const tag = `${spec.repository}:${spec.version.replace(/[^A-Za-z0-9_.-]/g, '-')}-${hash.digest('hex').slice(0, 12)}`;
  if ((await imageId(docker, tag)) !== undefined) return { tag, built: false };

  const context = await mkdtemp(join(tmpdir(), 'mcpgw-host-image-'));
  try {
    const rootfs = join(context, 'rootfs');
    const entries = [...copies];
    for (const dir of new Set(entries.map(([to]) => dirname(join(rootfs, to))))) await mkdir(dir, { recursive: true });
    await mapLimited(entries, 32, async ([to, from]) => {
      await copyFile(from, join(rootfs, to));
      await chmod(join(rootfs, to), (await stat(from)).mode & 0o777);
    });
    for (const file of spec.files ?? []) {
      await mkdir(dirname(join(rootfs, file.to)), { recursive: true });
      await writeFile(join(rootfs, file.to), file.content, { mode: file.executable ? 0o755 : 0o644 });
    }
    for (const link of spec.links ?? []) {
      await mkdir(dirname(join(rootfs, link.to)), { recursive: true });
      await symlink(link.target, join(rootfs, link.to));
    }
    for (const dir of spec.dirs ?? []) {
      await mkdir(join(rootfs, dir.path), { recursive: true });
      await chmod(join(rootfs, dir.path), dir.mode);
    }
    const env = Object.entries(spec.env ?? {}).map(([key, value]) => `ENV ${key}=${JSON.stringify(value)}`);
    const entrypoint = spec.entrypoint === undefined ? [] : [`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`];
    await writeFile(
      join(context, 'Dockerfile'),
      ['FROM scratch', 'COPY rootfs/ /', ...env, ...entrypoint, `LABEL ${LABEL_HOST_IMAGE}="${spec.kind}"`, ''].join('\n'),
    );
    await buildFromContext(docker, context, tag, spec.kind);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return { tag, built: true };
}

async function buildFromContext(docker: Docker, context: string, tag: string, kind: string): Promise<void> {
  let failure: string | undefined;
  try {
    const stream = await docker.buildImage({ context, src: await readdir(context) }, { t: tag, rm: true, forcerm: true });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (entry: { error?: string }) => {
          if (entry.error) failure = entry.error;
        },
      ),
    );
  } catch (err) {
    failure = dockerMessage(err);
  }
  if (failure !== undefined) {
    throw new GatewayError('ERR_DOCKER_BUILD_FAILED', `building the ${kind} image ${tag} from this host's files failed: ${failure}`, {
      hint: 'the engine refused the build; `docker info` says whether it is healthy and has disk space',
    });
  }
}

/** Paths of the shared libraries a binary loads, as `ldd` prints them (the loader included); none for a static binary. */
async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('ldd', [binary]));
  } catch {
    // "not a dynamic executable" (static Go binaries such as traefik, uv) exits non-zero.
    return [];
  }
  const paths = new Set<string>();
  for (const line of stdout.split('\n')) {
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match) paths.add(match[1]!);
  }
  return [...paths];
}
