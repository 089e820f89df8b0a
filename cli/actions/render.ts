import { relative, resolve, sep } from 'node:path';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { renderDeployment } from '../deploy/render-deployment.js';
import { shellWord } from '../command-line.js';
import { dirArg } from '../dir-arg.js';
import { ensureGitignore } from '../gitignore.js';
import { processOutput, type CliOutput } from '../output.js';
import { packageRoot, packageVersion } from '../package-info.js';

export interface RenderOptions {
  dir: string;
  /** The deploy folder; default `<dir>/deploy`. */
  out?: string | undefined;
  /** Base image of the node runtime image, for hosts without a registry. */
  baseImage?: string | undefined;
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
export async function runRender(options: RenderOptions, deps: Partial<RenderDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  const result = await renderDeployment(config, paths, {
    packageRoot: deps.packageRoot ?? packageRoot(),
    version: deps.version ?? packageVersion(),
    ...(options.out === undefined ? {} : { out: resolve(options.out) }),
    baseImage: options.baseImage,
    user: deps.user,
  });

  // The deploy folder holds secrets and a copy of node_modules, the logs are the operator's: neither belongs in git.
  const ignored = [...(result.out.startsWith(paths.dir + sep) ? [`${relative(paths.dir, result.out).split(sep).join('/')}/`] : []), 'logs/'];
  const gitignore = await ensureGitignore(paths.gitignore, ignored);

  const describe = (path: string): string => {
    if (path === 'compose.yaml')
      return `project ${result.project}: redis, auth, ${result.router === 'traefik' ? 'traefik' : 'router'}${result.bridges.map((b) => `, ${b.service}${b.relay === undefined ? '' : `, ${b.relay.service}`}`).join('')}`;
    if (path === 'config/mcp-gateway.yaml') return 'the config for the containers (store: the deployment Redis), no secrets';
    if (path.startsWith('secrets/')) return 'mode 0600';
    if (path === 'build/runtime-node.Dockerfile') return result.images.node;
    if (path === 'build/runtime-python.Dockerfile')
      return result.bridges.some((b) => b.runtime === 'python') ? result.images.python : `${result.images.python} (no server needs it yet)`;
    if (path === 'build/app/') return 'bin/, dist/, package.json and the production node_modules';
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
    'Start it with:',
    `  cd ${shellWord(result.out)} && docker compose up -d`,
    // `up` renders into the default folder itself.
    ...(result.out === resolve(paths.dir, 'deploy') ? [`  or: mcp-gateway up${dirArg(paths.dir)}`] : []),
  ];
  output.stdout(`${lines.join('\n')}\n`);
}
