import { join, relative, sep } from 'node:path';
import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { parseDuration, DURATION_HINT } from '../../runtime/config/duration.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import { deployUp, type UpResult } from '../deploy/docker/deploy-up.js';
import type { DockerConnection } from '../deploy/docker/docker-connection.js';
import { loadComposeProject } from '../deploy/docker/load-compose-project.js';
import { listProjectContainers } from '../deploy/docker/project-containers.js';
import { renderDeployment } from '../deploy/render-deployment.js';
import { GatewayError } from '../../runtime/errors.js';
import { deploymentTarget } from '../deployment-target.js';
import { ensureGitignore } from '../gitignore.js';
import { processOutput, type CliOutput } from '../output.js';
import { packageRoot, packageVersion } from '../package-info.js';
import { upProgress } from '../up-progress.js';

export interface UpOptions {
  dir: string;
  /** Deploy folder; default <dir>/deploy. */
  out?: string | undefined;
  /** Base image of the runtime images instead of deploy.nodeImage. */
  baseImage?: string | undefined;
  /** Redis image instead of deploy.redisImage. */
  redisImage?: string | undefined;
  /** How long each service may take to become healthy, e.g. 3m. */
  timeout?: string | undefined;
}

export interface UpDeps {
  output: CliOutput;
  /** Redraw the progress in place (a terminal) rather than print one line per change. */
  interactive: boolean;
  connect?: () => Promise<DockerConnection>;
  /** Ctrl+C: rolls back what the run changed. */
  signal?: AbortSignal;
  /** `uid:gid` of the runtime containers; default the current user's (render's default). */
  user?: string;
}

/**
 * `mcp-gateway up`: renders the deploy folder, then makes the engine match its compose.yaml
 * (see deployUp). Progress goes to stderr; the result (what changed, the endpoints) to stdout.
 * On failure everything this run changed is undone and what is still running is listed.
 */
export async function runUp(options: UpOptions, deps: Partial<UpDeps> = {}): Promise<UpResult> {
  const output = deps.output ?? processOutput;
  const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout);
  if (options.timeout !== undefined && timeoutMs === undefined)
    throw new GatewayError('ERR_USAGE', `--timeout ${options.timeout} is not a duration`, { hint: DURATION_HINT });

  const { config, project: projectName, connection } = await deploymentTarget(options.dir, deps.connect);
  const effective: GatewayConfig = options.redisImage === undefined ? config : { ...config, deploy: { ...config.deploy, redisImage: options.redisImage } };
  const paths = projectPaths(options.dir);
  const rendered = await renderDeployment(effective, paths, {
    out: options.out,
    baseImage: options.baseImage,
    user: deps.user,
    packageRoot: packageRoot(),
    version: packageVersion(),
  });
  // As `render` does: the deploy folder holds secrets and node_modules, logs/ is the operator's.
  await ensureGitignore(paths.gitignore, [
    ...(rendered.out.startsWith(paths.dir + sep) ? [`${relative(paths.dir, rendered.out).split(sep).join('/')}/`] : []),
    'logs/',
  ]);
  const project = await loadComposeProject(join(rendered.out, 'compose.yaml'), { projectName });
  if (project.name !== projectName) {
    // down/status/logs find the deployment by the config's name; a hand-edited `name:` would hide it from them.
    throw new GatewayError('ERR_COMPOSE_INVALID', `${rendered.out}/compose.yaml names the project ${project.name}, the config ${projectName}`, {
      hint: 'render again without editing compose.yaml, or set deploy.project',
    });
  }
  for (const name of project.unsetVariables) output.stderr(`warning: compose.yaml uses \${${name}}, which is not set; it is empty\n`);

  const progress = upProgress(output, { interactive: deps.interactive ?? false });
  let result: UpResult;
  try {
    result = await deployUp({
      connection,
      project,
      onEvent: (event) => progress.update(event),
      healthTimeoutMs: timeoutMs,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } catch (err) {
    progress.done();
    output.stderr(await whatIsRunning(connection, project.name));
    throw err;
  }
  progress.done();
  output.stdout(summary(effective, project.name, result));
  return result;
}

async function whatIsRunning(connection: DockerConnection, project: string): Promise<string> {
  try {
    const running = (await listProjectContainers(connection.docker, project)).filter((c) => c.state === 'running' || c.state === 'restarting');
    if (running.length === 0) return `up failed and was rolled back: nothing of ${project} is running\n`;
    return `up failed and was rolled back; still running (from before this run):\n${running.map((c) => `  ${(c.service ?? '?').padEnd(20)} ${c.name}  ${c.status}`).join('\n')}\n`;
  } catch {
    return `up failed; could not list what is running (docker ps --filter label=io.mcp-gateway.project=${project})\n`;
  }
}

function summary(config: GatewayConfig, project: string, result: UpResult): string {
  const counts = new Map<string, number>();
  for (const s of result.services) counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
  const changed = [...counts].map(([outcome, n]) => `${n} ${outcome}`);
  if (result.removed.length > 0) changed.push(`${result.removed.length} removed (${result.removed.join(', ')})`);
  const urls = gatewayUrls(config);
  const lines = [`mcp-gateway is up (project ${project}): ${changed.join(', ')}`, ''];
  for (const name of urls.serverNames) lines.push(`  ${name.padEnd(20)} ${urls.resourceFor(name)}`);
  lines.push(`  ${'health'.padEnd(20)} ${urls.issuer}/health`, '');
  return `${lines.join('\n')}\n`;
}
