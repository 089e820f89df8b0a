import { join, relative, resolve, sep } from 'node:path';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { deploymentImages, describeImages, type DeploymentImages, type ImageOverrides, withImageOverrides } from '../deploy/image-overrides.js';
import { renderDeployment } from '../deploy/render-deployment.js';
import { type DeployTarget, parseDeployTarget } from '../deploy/deploy-target.js';
import { shellWord } from '../command-line.js';
import { dirArg } from '../dir-arg.js';
import { ensureGitignore } from '../gitignore.js';
import { processOutput, type CliOutput } from '../output.js';
import { packageRoot, packageVersion } from '../package-info.js';

export interface RenderOptions extends ImageOverrides {
  dir: string;
  /** The deploy folder; default `<dir>/deploy`. */
  out?: string | undefined;
  /** The former name of --node-image, still accepted. */
  baseImage?: string | undefined;
  /** The result as one JSON document on stdout (RenderReport). */
  json?: boolean | undefined;
  /** compose (default), swarm or kubernetes. */
  target?: string | undefined;
}

/** What `render --json` prints. */
export interface RenderReport {
  project: string;
  deployFolder: string;
  /** Paths relative to the deploy folder; build/app/ counted as one entry. */
  files: string[];
  images: DeploymentImages;
  /** build/app/ was kept from the previous render: the installed package had not changed. */
  reusedApp: boolean;
}

export interface RenderDeps {
  output: CliOutput;
  /** The installed package (templates, dist, node_modules); tests pass the repository. */
  packageRoot: string;
  version: string;
  /** `uid:gid` of the runtime containers; default the current user's. */
  user?: string;
}

/**
 * `mcp-gateway render`: writes the deploy folder (compose.yaml, config/, secrets/, build/,
 * traefik/) from the project's config and secrets. Nothing is started: `docker compose up -d` in
 * the folder, or `mcp-gateway up`, does that.
 */
export async function runRender(options: RenderOptions, deps: Partial<RenderDeps> = {}): Promise<RenderReport> {
  const output = deps.output ?? processOutput;
  const paths = projectPaths(options.dir);
  const config = withImageOverrides(await loadConfig(paths.dir), options);
  const target = parseDeployTarget(options.target);
  const result = await renderDeployment(config, paths, {
    packageRoot: deps.packageRoot ?? packageRoot(),
    version: deps.version ?? packageVersion(),
    ...(options.out === undefined ? {} : { out: resolve(options.out) }),
    baseImage: options.nodeImage === undefined ? options.baseImage : undefined,
    user: deps.user,
    target,
  });

  // The deploy folder holds secrets and a copy of node_modules, the logs are the operator's: neither belongs in git.
  const ignored = [...(result.out.startsWith(paths.dir + sep) ? [`${relative(paths.dir, result.out).split(sep).join('/')}/`] : []), 'logs/'];
  const gitignore = await ensureGitignore(paths.gitignore, ignored);
  const images = deploymentImages(result);
  const report: RenderReport = { project: result.project, deployFolder: result.out, files: result.files, images, reusedApp: result.reusedApp };
  if (options.json) {
    output.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return report;
  }

  const describe = (path: string): string => {
    if (path === 'compose.yaml')
      return `project ${result.project}: redis, auth, ${result.router === 'traefik' ? 'traefik' : 'router'}${result.bridges.map((b) => `, ${b.service}${b.relay === undefined ? '' : `, ${b.relay.service}`}`).join('')}`;
    if (path === 'config/mcp-gateway.yaml') return 'the config for the containers (store: the deployment Redis), no secrets';
    if (path.startsWith('secrets/')) return 'mode 0600';
    if (path === 'build/runtime-node.Dockerfile') return result.images.node;
    if (path === 'build/runtime-python.Dockerfile')
      return result.bridges.some((b) => b.runtime === 'python') ? result.images.python : `${result.images.python} (no server needs it yet)`;
    if (path === 'build/app/')
      return `bin/, dist/, package.json and the production node_modules${result.reusedApp ? ' (unchanged since the last render)' : ''}`;
    if (path === 'traefik/traefik.yml') return "entry points 80/443, Let's Encrypt, providers";
    if (path === 'traefik/dynamic.yml') return `routes, ForwardAuth, CORS, rate limits (${config.deploy.routing} routing)`;
    return '';
  };
  const width = Math.max(...result.files.map((path) => path.length));
  const lines = [
    `Rendered the deployment into ${result.out}`,
    ...result.files.map((path) => `  ${path.padEnd(width)}  ${describe(path)}`.trimEnd()),
    ...(gitignore === 'unchanged' ? [] : [`  (${gitignore} ${paths.gitignore}: ignores ${ignored.join(' and ')})`]),
    '',
    describeImages(images),
    "  (on a host without a registry: `mcp-gateway images build` makes them from this host's programs)",
    '',
    ...startHint(target, result.out, result.project, result.out === resolve(paths.dir, 'deploy') ? dirArg(paths.dir) : undefined),
  ];
  output.stdout(`${lines.join('\n')}\n`);
  return report;
}

/** How to start what was rendered; `up` (which renders into the default folder itself) when `upDir` is given. */
function startHint(target: DeployTarget, out: string, project: string, upDir: string | undefined): string[] {
  if (target === 'kubernetes') {
    return [
      'Apply it with (the images pushed to a registry the cluster pulls from: docs/kubernetes.md):',
      `  kubectl apply -k ${shellWord(join(out, 'kubernetes'))}`,
    ];
  }
  if (target === 'swarm') {
    return [
      'Deploy it on a swarm manager with:',
      `  cd ${shellWord(out)} && docker stack deploy -c stack.yaml ${project}`,
      ...(upDir === undefined ? [] : [`  or: mcp-gateway up --target swarm${upDir}`]),
    ];
  }
  return [
    'Start it with (Docker Compose v2):',
    `  cd ${shellWord(out)} && docker compose up -d`,
    ...(upDir === undefined ? [] : [`  or: mcp-gateway up${upDir}`]),
  ];
}
