import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../../runtime/errors.js';
import { atomicWriteFile } from '../../runtime/fs/atomic-write.js';
import type { RuntimeKind } from './deploy-plan.js';
import { listFiles } from './copy-tree.js';
import { mapLimited } from '../map-limited.js';
import type { DeployTemplates } from './deploy-templates.js';
import { buildInputsFingerprint, reusePreviousApp } from './build-cache.js';
import { copyAppFiles, productionAppFiles, productionAppSources } from './production-deps.js';
import type { RuntimeImage } from './render-compose.js';
import { renderTemplate } from './render-template.js';

export const DOCKERFILES: Readonly<Record<RuntimeKind, string>> = {
  node: 'runtime-node.Dockerfile',
  python: 'runtime-python.Dockerfile',
};

/** Image references go into Dockerfiles and build args as they are: refuse anything else. */
const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/;

export function checkImageReference(image: string, setting: string): void {
  if (!IMAGE_REFERENCE.test(image)) {
    throw new GatewayError('ERR_CONFIG_INVALID', `${setting} is not an image reference: ${JSON.stringify(image)}`, {
      hint: 'name an image like node:20-bookworm-slim or registry.example.com/team/node:20',
    });
  }
}

export interface BuildContextOptions {
  packageRoot: string;
  templates: DeployTemplates;
  version: string;
  nodeImage: string;
  pythonImage: string;
  /** The deploy folder being replaced: its build/app/ is moved over when the inputs are the same files (build-cache.ts). */
  previousDeploy?: string | undefined;
}

export interface BuildContext {
  images: Record<RuntimeKind, RuntimeImage>;
  /** The previous render's app/ was moved in (no copy, no hash). */
  reusedApp: boolean;
  /** For build-cache.ts's record. */
  fingerprint: string;
  contextHash: string;
}

/**
 * Writes build/ of the deploy folder (both Dockerfiles and app/) and returns the images built
 * from it. Tags are `mcp-gateway-runtime-<kind>:<version>-<hash>`, the hash covering every file
 * of the context and the build args, so a changed package, Dockerfile or base image is a new tag
 * (compose and `up` rebuild) and an unchanged one is the same tag (nothing to do).
 */
export async function writeBuildContext(buildDir: string, options: BuildContextOptions): Promise<BuildContext> {
  checkImageReference(options.nodeImage, 'the node base image');
  checkImageReference(options.pythonImage, 'deploy.pythonImage');
  const values = { version: options.version, nodeImage: options.nodeImage };
  const node = options.templates.nodeDockerfile;
  const python = options.templates.pythonDockerfile;
  const nodeText = renderTemplate(node.text, values, { format: 'text', source: node.source });
  const pythonText = renderTemplate(python.text, { ...values, pythonImage: options.pythonImage }, { format: 'text', source: python.source });
  await atomicWriteFile(join(buildDir, DOCKERFILES.node), nodeText);
  await atomicWriteFile(join(buildDir, DOCKERFILES.python), pythonText);
  const sources = await productionAppSources(options.packageRoot);
  const fingerprint = await buildInputsFingerprint(sources, [nodeText, pythonText]);
  const reused = await reusePreviousApp(options.previousDeploy, buildDir, fingerprint);
  if (reused === undefined) await copyAppFiles(await productionAppFiles(sources), join(buildDir, 'app'));
  const contextHash = reused ?? (await hashDirectory(buildDir));
  const image = (kind: RuntimeKind, args: Record<string, string>): RuntimeImage => {
    const build = { context: './build', dockerfile: DOCKERFILES[kind], args };
    const tagHash = createHash('sha256').update(contextHash).update(JSON.stringify(build)).digest('hex').slice(0, 12);
    return { tag: `mcp-gateway-runtime-${kind}:${options.version}-${tagHash}`, build };
  };
  return {
    images: {
      node: image('node', { BASE_IMAGE: options.nodeImage }),
      python: image('python', { NODE_IMAGE: options.nodeImage, PYTHON_IMAGE: options.pythonImage }),
    },
    reusedApp: reused !== undefined,
    fingerprint,
    contextHash,
  };
}

/** sha256 over every file's path, executable bit and content, in a fixed order (not mtimes: a rerender changes none). */
export async function hashDirectory(dir: string): Promise<string> {
  const files = await listFiles(dir);
  const digests = new Map<string, string>();
  await mapLimited(files, 32, async (file) => {
    const [{ mode }, content] = await Promise.all([stat(join(dir, file)), readFile(join(dir, file))]);
    digests.set(file, `${mode & 0o111 ? 'x' : '-'}${createHash('sha256').update(content).digest('hex')}`);
  });
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file}\0${digests.get(file)!}\n`);
  return hash.digest('hex');
}
