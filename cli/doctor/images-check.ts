import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quote } from 'shell-quote';
import { isGatewayError } from '../../runtime/errors.js';
import type { ComposeBuild, ComposeProject } from '../deploy/docker/compose-model.js';
import { bridgeRuntime } from '../deploy/deploy-plan.js';
import { engineFor } from './docker-check.js';
import { fail, worst, type CheckResult, type CheckStatus, type DoctorContext } from './doctor-check.js';
import type { DoctorDockerEngine } from './doctor-deps.js';

interface ImageFinding {
  status: CheckStatus;
  text: string;
  fix?: string;
}

const NO_REGISTRY =
  'on a host without a registry, build or load it first (docker build -t / docker load), or point the config at a local image (deploy.nodeImage or up --base-image, deploy.redisImage or up --redis-image, deploy.traefikImage)';

/**
 * Every image `up` needs is on this engine, or `up` can build it here: an image with `build:` is
 * buildable when its Dockerfile is there and the images it is built FROM are present (a warning:
 * up builds it). Any other missing image fails: it must come from a registry, which a host
 * without one does not have, and this check does not pull. Before the first render the runtime
 * images do not exist yet, and their base images are checked instead.
 */
export async function checkImages(ctx: DoctorContext): Promise<CheckResult> {
  const reached = await engineFor(ctx, 'images');
  if (!reached.ok) return reached.result;
  let compose: ComposeProject | undefined;
  try {
    compose = await ctx.compose?.();
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return fail('images', err.message, err.hint ?? `render again: mcp-gateway render --dir ${quote([ctx.paths.dir])}`);
  }
  const findings = compose === undefined ? await baseImages(ctx, reached.engine) : await composeImages(compose, reached.engine);
  const fixes = [...new Set(findings.map((f) => f.fix).filter((f): f is string => f !== undefined))];
  const prefix = compose === undefined ? 'deploy/ is not rendered yet (up renders it and builds the runtime images from these): ' : '';
  const result: CheckResult = { name: 'images', status: worst(findings.map((f) => f.status)), detail: `${prefix}${findings.map((f) => f.text).join('; ')}` };
  return fixes.length === 0 ? result : { ...result, fix: fixes.join('\n') };
}

async function composeImages(compose: ComposeProject, engine: DoctorDockerEngine): Promise<ImageFinding[]> {
  const byImage = new Map<string, { services: string[]; build: ComposeBuild | undefined; pullPolicy: string | undefined }>();
  for (const service of compose.services) {
    const entry = byImage.get(service.image) ?? { services: [], build: undefined, pullPolicy: undefined };
    entry.services.push(service.name);
    entry.build ??= service.build;
    entry.pullPolicy ??= service.pullPolicy;
    byImage.set(service.image, entry);
  }
  const findings: ImageFinding[] = [];
  for (const [image, { services, build, pullPolicy }] of byImage) {
    const forWhom = `${image} (${services.join(', ')})`;
    if (await engine.hasImage(image)) {
      findings.push({ status: 'pass', text: `${forWhom} present` });
    } else if (build !== undefined) {
      findings.push(await buildable(forWhom, build, engine));
    } else {
      const how = pullPolicy === 'never' ? 'and pull_policy is never' : 'up would pull it, which needs its registry';
      findings.push({ status: 'fail', text: `${forWhom} is not on this host: ${how}`, fix: pullFix([image]) });
    }
  }
  return findings;
}

async function buildable(forWhom: string, build: ComposeBuild, engine: DoctorDockerEngine): Promise<ImageFinding> {
  const dockerfile = join(build.context, build.dockerfile);
  let text: string;
  try {
    text = await readFile(dockerfile, 'utf8');
  } catch (err) {
    return {
      status: 'fail',
      text: `${forWhom} is missing and cannot be built: ${dockerfile} is not readable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      fix: 'render the deploy folder again: mcp-gateway render (or mcp-gateway up, which renders first)',
    };
  }
  const missing: string[] = [];
  for (const base of fromImages(text, build.args)) if (!(await engine.hasImage(base))) missing.push(base);
  if (missing.length === 0) return { status: 'pass', text: `${forWhom} not built yet; up builds it from ${build.dockerfile}, its base images are present` };
  return {
    status: 'fail',
    text: `${forWhom} not built yet, and its base image ${missing.join(', ')} is not on this host: building it pulls that, which needs a registry`,
    fix: pullFix(missing),
  };
}

/**
 * The images a Dockerfile builds FROM, its `ARG` defaults and the build args substituted; earlier
 * stages (`FROM x AS node` ... `COPY --from=node`) and `scratch` are no images to have.
 */
export function fromImages(dockerfile: string, args: Readonly<Record<string, string>>): string[] {
  const values: Record<string, string> = {};
  const stages = new Set<string>();
  const images: string[] = [];
  const substitute = (word: string): string =>
    word.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => values[a ?? b ?? ''] ?? '');
  let seenFrom = false;
  for (const raw of dockerfile.split('\n')) {
    const line = raw.trim();
    const arg = /^ARG\s+(\w+)(?:=(\S*))?/i.exec(line);
    if (arg && !seenFrom) {
      const name = arg[1]!;
      values[name] = args[name] ?? arg[2] ?? '';
      continue;
    }
    const from = /^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from) continue;
    seenFrom = true;
    const image = substitute(from[1]!);
    if (image !== 'scratch' && image !== '' && !stages.has(image.toLowerCase())) images.push(image);
    if (from[2] !== undefined) stages.add(from[2].toLowerCase());
  }
  return [...new Set(images)];
}

/** Before a render: the images up builds the runtime images from, and those it runs as they are. */
async function baseImages(ctx: DoctorContext, engine: DoctorDockerEngine): Promise<ImageFinding[]> {
  const { deploy, servers } = ctx.config;
  const needed = new Map<string, string>([[deploy.nodeImage, 'deploy.nodeImage']]);
  if (Object.values(servers).some((server) => bridgeRuntime(server) === 'python')) needed.set(deploy.pythonImage, 'deploy.pythonImage');
  needed.set(deploy.redisImage, 'deploy.redisImage');
  if (deploy.router === 'traefik') needed.set(deploy.traefikImage, 'deploy.traefikImage');
  const findings: ImageFinding[] = [];
  for (const [image, setting] of needed) {
    findings.push(
      (await engine.hasImage(image))
        ? { status: 'pass', text: `${image} (${setting}) present` }
        : { status: 'fail', text: `${image} (${setting}) is not on this host: up would pull it, which needs its registry`, fix: pullFix([image]) },
    );
  }
  return findings;
}

/** With a registry `docker pull` (or `up` itself) fetches it; without one it must be made here. */
function pullFix(images: readonly string[]): string {
  return `docker pull ${images.join(' ')} (or mcp-gateway up, which pulls what is missing); ${NO_REGISTRY}`;
}
