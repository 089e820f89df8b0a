import { access } from 'node:fs/promises';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import { shellWord } from '../command-line.js';
import { bridgeRuntime } from '../deploy/deploy-plan.js';
import { connectDocker, type DockerConnection } from '../deploy/docker/docker-connection.js';
import { buildHostImage } from '../deploy/docker/host-image.js';
import { type HostImageKind, type HostRecipe, nodeRecipe, pythonRecipe, redisRecipe, traefikRecipe } from '../deploy/host-image-recipes.js';
import { IMAGE_FLAGS } from '../deploy/image-overrides.js';
import { dirArg } from '../dir-arg.js';
import { processOutput, type CliOutput } from '../output.js';

export interface ImagesBuildOptions {
  dir: string;
  /** The report as one JSON document on stdout (ImagesBuildReport); progress stays on stderr. */
  json?: boolean | undefined;
}

export interface ImagesBuildDeps {
  output: CliOutput;
  connect: () => Promise<DockerConnection>;
  /** The recipes, for tests; default: this host's node, redis, python (when needed) and traefik. */
  recipes: (needs: { python: boolean }) => Promise<HostRecipe[]>;
}

export interface ImagesBuildReport {
  images: Array<{ kind: HostImageKind; tag: string; built: boolean; contents: string } | { kind: HostImageKind; skipped: string }>;
  /** The `up` flags that use what was built. */
  upFlags: string[];
  /** The same as deploy.* settings of mcp-gateway.yaml. */
  config: Record<string, string>;
}

const CONFIG_KEY: Readonly<Record<HostImageKind, 'nodeImage' | 'pythonImage' | 'redisImage' | 'traefikImage'>> = {
  node: 'nodeImage',
  python: 'pythonImage',
  redis: 'redisImage',
  traefik: 'traefikImage',
};

async function hostRecipes({ python }: { python: boolean }): Promise<HostRecipe[]> {
  return [
    await nodeRecipe(),
    python ? await pythonRecipe() : { kind: 'python', missing: 'skipped: no configured server runs with uvx, uv, python or pip' },
    await redisRecipe(),
    await traefikRecipe(),
  ];
}

/**
 * `mcp-gateway images build`: the base images `up` needs, made FROM scratch of what this host
 * has (its node and npm, redis-server, python3 + uv), for hosts that reach no registry. Prints the
 * tags and the `up` flags (and deploy.* settings) that use them; says why an image it cannot make
 * here (Traefik without a traefik binary) is missing and what to do instead.
 */
export async function runImagesBuild(options: ImagesBuildOptions, deps: Partial<ImagesBuildDeps> = {}): Promise<ImagesBuildReport> {
  const output = deps.output ?? processOutput;
  const config = await projectConfig(options.dir);
  const connection = await (deps.connect ?? connectDocker)();
  const needsPython = config !== undefined && Object.values(config.servers).some((server) => bridgeRuntime(server) === 'python');
  const recipes = await (deps.recipes ?? hostRecipes)({ python: needsPython });
  const report: ImagesBuildReport = { images: [], upFlags: [], config: {} };
  for (const recipe of recipes) {
    if ('missing' in recipe) {
      report.images.push({ kind: recipe.kind, skipped: recipe.missing });
      continue;
    }
    output.stderr(`${recipe.kind}: building from ${recipe.contents}\n`);
    const image = await buildHostImage(connection.docker, recipe.spec);
    report.images.push({ kind: recipe.kind, tag: image.tag, built: image.built, contents: recipe.contents });
    const key = CONFIG_KEY[recipe.kind];
    report.upFlags.push(IMAGE_FLAGS[key], image.tag);
    report.config[`deploy.${key}`] = image.tag;
  }
  const traefikMissing = report.images.some((i) => i.kind === 'traefik' && 'skipped' in i);
  const usesTraefik = (config?.deploy.router ?? 'traefik') === 'traefik';
  if (traefikMissing && usesTraefik) report.config['deploy.router'] = 'builtin';
  output.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : describe(report, options.dir, { traefikMissing, usesTraefik }));
  return report;
}

async function projectConfig(dir: string): Promise<GatewayConfig | undefined> {
  const paths = projectPaths(dir);
  const present = await access(paths.configFile).then(
    () => true,
    () => false,
  );
  return present ? loadConfig(dir) : undefined;
}

function describe(report: ImagesBuildReport, dir: string, { traefikMissing, usesTraefik }: { traefikMissing: boolean; usesTraefik: boolean }): string {
  const lines = ["Base images made from this host's programs (no registry needed):"];
  for (const image of report.images) {
    if ('skipped' in image) lines.push(`  ${image.kind.padEnd(8)} not built: ${image.skipped}`);
    else lines.push(`  ${image.kind.padEnd(8)} ${image.tag}  ${image.built ? 'built' : 'already there'}: ${image.contents}`);
  }
  if (traefikMissing) {
    lines.push(
      '',
      usesTraefik
        ? 'Traefik cannot be made from this host: set deploy.router: builtin in mcp-gateway.yaml (the built-in router, plain HTTP behind your own TLS proxy), or load a Traefik image (docker load) and pass --traefik-image.'
        : 'Traefik cannot be made from this host; the project uses deploy.router: builtin, which does not need it.',
    );
  }
  if (report.upFlags.length > 0) {
    lines.push(
      '',
      'Use them:',
      `  mcp-gateway up${dirArg(dir)} ${report.upFlags.map(shellWord).join(' ')}`,
      '',
      'or set them in mcp-gateway.yaml:',
      '  deploy:',
    );
    for (const [key, value] of Object.entries(report.config)) lines.push(`    ${key.slice('deploy.'.length)}: ${value}`);
  }
  return `${lines.join('\n')}\n`;
}
