import { readdir } from 'node:fs/promises';
import type Docker from 'dockerode';
import { dockerMessage, dockerStatus } from './engine-error.js';
import { GatewayError } from '../../../runtime/errors.js';
import type { ComposeBuild, ComposeProject, ComposeService } from './compose-model.js';

export type ImageEvent = { image: string; services: string[]; phase: 'building' | 'pulling' | 'built' | 'pulled' | 'present' };

/** Lines of build output kept for the error message of a failed build. */
const BUILD_LOG_TAIL = 25;

/**
 * Makes every image of the project exist locally and returns tag -> image ID. An image that
 * exists is used as it is: the runtime images' tags carry the hash of their build context
 * (render names them so), so "the tag exists" means "this exact content was built". A missing
 * one is built when the service has `build:`, pulled otherwise.
 */
export async function ensureImages(docker: Docker, project: ComposeProject, onEvent: (event: ImageEvent) => void = () => {}): Promise<Map<string, string>> {
  const byImage = new Map<string, ComposeService[]>();
  for (const service of project.services) byImage.set(service.image, [...(byImage.get(service.image) ?? []), service]);
  const ids = new Map<string, string>();
  // Pulls first: a registry that cannot be reached fails in a second, not after a long build.
  // One at a time: two builds at once on a small host are slower than one after the other.
  const ordered = [...byImage].sort(([, a], [, b]) => Number(a.some((s) => s.build)) - Number(b.some((s) => s.build)));
  for (const [image, services] of ordered) {
    const names = services.map((s) => s.name);
    const existing = await imageId(docker, image);
    const build = services.find((s) => s.build)?.build;
    const policy = services.find((s) => s.pullPolicy)?.pullPolicy;
    if (existing !== undefined && policy !== 'always' && policy !== 'build') {
      ids.set(image, existing);
      onEvent({ image, services: names, phase: 'present' });
      continue;
    }
    if (build !== undefined) {
      onEvent({ image, services: names, phase: 'building' });
      await buildImage(docker, image, build, names);
      onEvent({ image, services: names, phase: 'built' });
    } else {
      if (policy === 'never') throw unavailable(image, names, 'it is not on this host and pull_policy is never');
      onEvent({ image, services: names, phase: 'pulling' });
      await pullImage(docker, image, names);
      onEvent({ image, services: names, phase: 'pulled' });
    }
    const id = await imageId(docker, image);
    if (id === undefined) throw unavailable(image, names, 'the engine reported success but the image is not there');
    ids.set(image, id);
  }
  return ids;
}

export async function imageId(docker: Docker, image: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch (err) {
    if (dockerStatus(err) === 404) return undefined;
    throw err;
  }
}

interface ProgressEntry {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

async function buildImage(docker: Docker, tag: string, build: ComposeBuild, services: string[]): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(build.context);
  } catch (err) {
    throw new GatewayError('ERR_DOCKER_BUILD_FAILED', `cannot build ${tag} for ${services.join(', ')}: its build context ${build.context} is not readable`, {
      hint: 'render the deploy folder again with `mcp-gateway render`',
      cause: err,
    });
  }
  const tail: string[] = [];
  const keep = (text: string): void => {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes (ESC [ ... m) from the build log
      tail.push(line.replace(/\x1b\[[0-9;]*m/g, ''));
      if (tail.length > BUILD_LOG_TAIL) tail.shift();
    }
  };
  let failure: string | undefined;
  try {
    // dockerode packs `src` (relative to `context`, honouring .dockerignore) into the tar the engine builds from.
    const stream = await docker.buildImage(
      { context: build.context, src: entries },
      {
        t: tag,
        dockerfile: build.dockerfile,
        buildargs: build.args,
        labels: build.labels,
        ...(build.target === undefined ? {} : { target: build.target }),
        rm: true,
        forcerm: true,
      },
    );
    await followProgress(docker, stream, (entry) => {
      if (entry.stream) keep(entry.stream);
      if (entry.error) failure = entry.errorDetail?.message ?? entry.error;
    });
  } catch (err) {
    failure = dockerMessage(err);
  }
  if (failure !== undefined) {
    keep(failure);
    throw new GatewayError(
      'ERR_DOCKER_BUILD_FAILED',
      `building image ${tag} for ${services.join(', ')} failed: ${failure}\n--- last build output ---\n${tail.join('\n')}`,
      {
        hint: `fix the cause above; the Dockerfile is ${build.dockerfile} in ${build.context} (base image: --node-image or deploy.nodeImage; \`mcp-gateway images build\` makes one on a host without a registry)`,
      },
    );
  }
}

async function pullImage(docker: Docker, image: string, services: string[]): Promise<void> {
  let failure: string | undefined;
  try {
    const stream = await docker.pull(image);
    await followProgress(docker, stream, (entry) => {
      if (entry.error) failure = entry.errorDetail?.message ?? entry.error;
    });
  } catch (err) {
    failure = dockerMessage(err);
  }
  if (failure !== undefined) throw unavailable(image, services, `pulling it failed: ${failure.trim()}`);
}

function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onEntry: (entry: ProgressEntry) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), onEntry);
  });
}

function unavailable(image: string, services: string[], reason: string): GatewayError {
  return new GatewayError('ERR_DOCKER_IMAGE_UNAVAILABLE', `image ${image} for ${services.join(', ')} is not available: ${reason}`, {
    hint: "on a host without a registry, `mcp-gateway images build` makes the base images from this host's programs and prints the up flags that use them (--node-image, --python-image, --redis-image; deploy.router: builtin where Traefik cannot be made), or load an image first (docker load)",
  });
}
