import { GRAFANA_DASHBOARD_PATH, PROMETHEUS_CONFIG_PATH, renderGrafanaDashboard, renderPrometheusConfig } from './render-monitoring.js';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { ProjectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import { SECRET_DIR_MODE, SECRET_FILE_MODE } from '../../runtime/config/secrets.js';
import { GatewayError } from '../../runtime/errors.js';
import { atomicWriteFile } from '../../runtime/fs/atomic-write.js';
import { recordBuildInputs, returnPreviousApp } from './build-cache.js';
import { checkImageReference, writeBuildContext } from './build-context.js';
import { bridgeContainerConfig, containerConfig, containerConfigText, contentHash } from './container-config.js';
import { collectServiceSecrets, formatEnvFile } from './deploy-secrets.js';
import { planDeployment, type DeployPlan, type RuntimeKind } from './deploy-plan.js';
import { loadDeployTemplates } from './deploy-templates.js';
import { DEFAULT_DEPLOY_DIR } from './docker-deployment.js';
import { bridgeConfigDir, COMPOSE_HEADER_MARK, type ComposeInputs, renderCompose, type RuntimeImage } from './render-compose.js';
import { renderTraefikDynamic, renderTraefikStatic } from './render-traefik.js';
import { replaceDirectory } from './replace-directory.js';
import type { DeployTarget, TargetFiles } from './deploy-target.js';
import { renderKubernetesFiles } from './kubernetes/render-kubernetes.js';
import { renderSwarmFiles } from './swarm/render-stack.js';

export interface RenderDeploymentOptions {
  /** The deploy folder, absolute or relative to the project folder; default `<project>/deploy`. */
  out?: string | undefined;
  /** Base image of the node runtime (`--base-image`), instead of deploy.nodeImage. */
  baseImage?: string | undefined;
  /** The installed mcp-gateway package: templates/, bin/, dist/, node_modules. */
  packageRoot: string;
  version: string;
  /** `uid:gid` of the runtime containers; default this process's, so ./logs stays the operator's. */
  user?: string | undefined;
  /** compose (default), swarm or kubernetes: which files describe the deployment (deploy-target.ts). */
  target?: DeployTarget | undefined;
}

export interface RenderedDeployment {
  out: string;
  project: string;
  router: DeployPlan['router'];
  bridges: DeployPlan['bridges'];
  /** Paths relative to `out`, build/app/ counted as one entry. */
  files: string[];
  /** The runtime images' tags (built from build/), with the base images they are built from, and the pulled ones. */
  images: Record<RuntimeKind, string> & { nodeBase: string; pythonBase: string; redis: string; traefik: string | undefined };
  /** build/app/ was the previous render's, moved over: its inputs had not changed (build-cache.ts). */
  reusedApp: boolean;
}

/** What compose.yaml is rendered from, but for the config hashes, which come from the other files rendered here. */
export type DeploymentFilesInputs = Omit<ComposeInputs, 'configHashes'>;

/**
 * The text files of the deploy folder that hold no secret (compose.yaml, config/, traefik/),
 * by path relative to the folder. No I/O: the schema and golden tests call it directly.
 */
export function renderDeploymentFiles({ config, plan, templates, images, logsDir, user }: DeploymentFilesInputs): Map<string, string> {
  const forContainers = containerConfig(config);
  const configText = containerConfigText(forContainers);
  const files = new Map<string, string>([['config/mcp-gateway.yaml', configText]]);
  const configHashes: Record<string, string> = { auth: contentHash(configText), router: contentHash(configText) };
  if (plan.router === 'traefik') {
    const staticConfig = renderTraefikStatic(config, plan, templates);
    const dynamicConfig = renderTraefikDynamic(config, plan, templates);
    files.set('traefik/traefik.yml', staticConfig);
    files.set('traefik/dynamic.yml', dynamicConfig);
    configHashes['traefik'] = contentHash(staticConfig, dynamicConfig);
  }
  for (const bridge of plan.bridges) {
    const text = containerConfigText(bridgeContainerConfig(forContainers, bridge.server));
    files.set(`${bridgeConfigDir(bridge.server)}/mcp-gateway.yaml`, text);
    configHashes[bridge.service] = contentHash(text);
  }
  files.set('compose.yaml', renderCompose({ config, plan, templates, images, logsDir, user, configHashes }));
  files.set(PROMETHEUS_CONFIG_PATH, renderPrometheusConfig(plan));
  files.set(GRAFANA_DASHBOARD_PATH, renderGrafanaDashboard(plan));
  return files;
}

/**
 * `mcp-gateway render`: writes the deploy folder of the contract (docs/docker-contract.md), in
 * which `docker compose up -d` works without our CLI and from which `mcp-gateway up` creates the
 * same containers. Everything is written into a temp folder that then replaces the old one, so a
 * failure (a missing secret, a broken install) leaves the previous deploy folder as it was.
 */
export async function renderDeployment(config: GatewayConfig, paths: ProjectPaths, options: RenderDeploymentOptions): Promise<RenderedDeployment> {
  const target = options.target ?? 'compose';
  const plan = planDeployment(config, paths.dir, target);
  const out = resolve(paths.dir, options.out ?? DEFAULT_DEPLOY_DIR);
  await assertReplaceable(out, paths);
  const nodeImage = options.baseImage ?? config.deploy.nodeImage;
  checkImageReference(nodeImage, options.baseImage === undefined ? 'deploy.nodeImage' : '--base-image');
  checkImageReference(config.deploy.pythonImage, 'deploy.pythonImage');
  const templates = await loadDeployTemplates(options.packageRoot);
  // Secrets are read and formatted before anything is written: a missing one changes nothing.
  const secrets = await collectServiceSecrets(config, paths, plan);
  const envFiles = target === 'compose' ? [...secrets].map(([service, entries]) => [`secrets/${service}.env`, formatEnvFile(service, entries)] as const) : [];
  const logsDir = join(paths.dir, 'logs');
  await mkdir(logsDir, { recursive: true });
  // The data volumes bind these (the local driver refuses a missing device); 0700 like the store beside them.
  for (const bridge of plan.bridges) await mkdir(bridge.dataDir, { recursive: true, mode: 0o700 });
  const version = options.version.replace(/[^A-Za-z0-9_.-]/g, '-');
  const user = options.user ?? defaultUser();
  let images: Record<RuntimeKind, RuntimeImage> | undefined;
  let reusedApp = false;
  const written: string[] = [];

  await replaceDirectory(out, async (dir) => {
    const build = await writeBuildContext(join(dir, 'build'), {
      packageRoot: options.packageRoot,
      templates,
      version,
      nodeImage,
      pythonImage: config.deploy.pythonImage,
      previousDeploy: out,
    });
    ({ images, reusedApp } = build);
    try {
      written.push('build/runtime-node.Dockerfile', 'build/runtime-python.Dockerfile', 'build/app/');
      const inputs: DeploymentFilesInputs = { config, plan, templates, images, logsDir: composePath(out, paths.dir, logsDir), user };
      const rendered: TargetFiles =
        target === 'swarm'
          ? renderSwarmFiles(inputs, secrets)
          : target === 'kubernetes'
            ? renderKubernetesFiles(inputs, secrets)
            : { files: renderDeploymentFiles(inputs), secretFiles: new Map(envFiles) };
      for (const [path, text] of rendered.files) {
        await atomicWriteFile(join(dir, path), text);
        written.push(path);
      }
      for (const [path, text] of rendered.secretFiles) {
        await atomicWriteFile(join(dir, path), text, { mode: SECRET_FILE_MODE, dirMode: SECRET_DIR_MODE });
        written.push(path);
      }
      await recordBuildInputs(dir, { fingerprint: build.fingerprint, contextHash: build.contextHash });
    } catch (err) {
      // The previous folder stays as it was, app/ included.
      if (reusedApp) await returnPreviousApp(out, join(dir, 'build'));
      throw err;
    }
  });

  return {
    out,
    project: plan.project,
    router: plan.router,
    bridges: plan.bridges,
    files: written.sort(),
    images: {
      node: images!.node.tag,
      python: images!.python.tag,
      nodeBase: nodeImage,
      pythonBase: config.deploy.pythonImage,
      redis: config.deploy.redisImage,
      traefik: plan.router === 'traefik' ? config.deploy.traefikImage : undefined,
    },
    reusedApp,
  };
}

/** The file that describes a deploy folder of each target; each starts with COMPOSE_HEADER_MARK. */
export const RENDERED_DESCRIPTIONS = ['compose.yaml', 'stack.yaml', 'kubernetes/kustomization.yaml'] as const;

/** `../logs` when the deploy folder is inside the project (the two move together), else absolute. */
function composePath(out: string, projectDir: string, target: string): string {
  return out.startsWith(projectDir + sep) ? relative(out, target) : target;
}

function defaultUser(): string {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined || gid === undefined ? '1000:1000' : `${uid}:${gid}`;
}

/** The whole folder is replaced: only ever one that is missing, empty, or a deploy folder we wrote. */
async function assertReplaceable(out: string, paths: ProjectPaths): Promise<void> {
  const hint = 'pass --out with a new or empty folder, or a deploy folder written by `mcp-gateway render` (it is replaced as a whole)';
  if (out === paths.dir || paths.dir.startsWith(out + sep)) {
    throw new GatewayError('ERR_USAGE', `${out} holds the project itself, not a deploy folder`, { hint });
  }
  let entries: string[];
  try {
    entries = await readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (entries.length === 0) return;
  const marked = await Promise.all(RENDERED_DESCRIPTIONS.map((path) => readFile(join(out, path), 'utf8').catch(() => '')));
  if (!marked.some((text) => text.includes(COMPOSE_HEADER_MARK))) {
    throw new GatewayError('ERR_USAGE', `${out} exists and is not a deploy folder written by mcp-gateway render`, { hint });
  }
}
