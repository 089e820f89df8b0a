import { join } from 'node:path';
import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { parseDuration, DURATION_HINT } from '../../runtime/config/duration.js';
import { deployUp, type UpResult } from '../deploy/docker/deploy-up.js';
import type { DockerConnection } from '../deploy/docker/docker-connection.js';
import { loadComposeProject } from '../deploy/docker/load-compose-project.js';
import { listProjectContainers } from '../deploy/docker/project-containers.js';
import { deploymentImages, describeImages, type DeploymentImages, type ImageOverrides } from '../deploy/image-overrides.js';
import { GatewayError } from '../../runtime/errors.js';
import { deploymentTarget } from '../deployment-target.js';
import { processOutput, type CliOutput } from '../output.js';
import { withUpProgress } from '../up-progress.js';
import { parseDeployTarget, UP_TARGETS } from '../deploy/deploy-target.js';
import { runSwarmUp, type SwarmUpReport } from './up-swarm.js';
import { renderForUp } from './up-render.js';

export interface UpOptions extends ImageOverrides {
  dir: string;
  /** Deploy folder; default <dir>/deploy. */
  out?: string | undefined;
  /** The former name of --node-image, still accepted. */
  baseImage?: string | undefined;
  /** How long each service may take to become healthy, e.g. 3m. */
  timeout?: string | undefined;
  /** The result as one JSON document on stdout (UpReport); progress stays on stderr. */
  json?: boolean | undefined;
  /** `--target`: compose (the default) or swarm (deploy-target.ts). */
  target?: string | undefined;
}

/** What `up --json` prints. */
export interface UpReport {
  project: string;
  deployFolder: string;
  images: DeploymentImages;
  services: UpResult['services'];
  removed: string[];
  endpoints: Array<{ server: string; url: string }>;
  health: string;
  durationMs: number;
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
 * (see deployUp). Progress and the images used go to stderr; the result (what changed, the
 * endpoints) to stdout, as one JSON document with --json. When a service fails, what became
 * healthy stays up; what runs and what does not is listed.
 */
export async function runUp(options: UpOptions, deps: Partial<UpDeps> = {}): Promise<UpReport | SwarmUpReport> {
  const started = Date.now();
  const output = deps.output ?? processOutput;
  const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout);
  if (options.timeout !== undefined && timeoutMs === undefined)
    throw new GatewayError('ERR_USAGE', `--timeout ${options.timeout} is not a duration`, { hint: DURATION_HINT });
  if (parseDeployTarget(options.target, UP_TARGETS) === 'swarm') return runSwarmUp(options, { ...deps, output }, { started, timeoutMs });

  const { config, project: projectName, connection } = await deploymentTarget(options.dir, deps.connect);
  const { effective, rendered } = await renderForUp(options, config, { user: deps.user, target: 'compose' });
  const project = await loadComposeProject(join(rendered.out, 'compose.yaml'), { projectName });
  if (project.name !== projectName) {
    // down/status/logs find the deployment by the config's name; a hand-edited `name:` would hide it from them.
    throw new GatewayError('ERR_COMPOSE_INVALID', `${rendered.out}/compose.yaml names the project ${project.name}, the config ${projectName}`, {
      hint: 'render again without editing compose.yaml, or set deploy.project',
    });
  }
  for (const name of project.unsetVariables) output.stderr(`warning: compose.yaml uses \${${name}}, which is not set; it is empty\n`);
  const images = deploymentImages(rendered);
  output.stderr(`${describeImages(images)}\n`);

  const result = await withUpProgress(
    output,
    deps.interactive ?? false,
    (onEvent) => deployUp({ connection, project, onEvent, healthTimeoutMs: timeoutMs, ...(deps.signal ? { signal: deps.signal } : {}) }),
    () => whatIsRunning(connection, project.name, Date.now() - started),
  );
  const urls = gatewayUrls(effective);
  const report: UpReport = {
    project: project.name,
    deployFolder: rendered.out,
    images,
    services: result.services,
    removed: result.removed,
    endpoints: urls.serverNames.map((server) => ({ server, url: urls.resourceFor(server) })),
    health: `${urls.issuer}/health`,
    durationMs: Date.now() - started,
  };
  output.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report, result));
  return report;
}

/** After a failure: what runs (kept: healthy before, or healthy in this run) and what does not, from the engine's own listing. */
async function whatIsRunning(connection: DockerConnection, project: string, elapsedMs: number): Promise<string> {
  try {
    const containers = await listProjectContainers(connection.docker, project);
    const row = (c: (typeof containers)[number]): string => `  ${(c.service ?? '?').padEnd(20)} ${c.name}  ${c.status}`;
    const running = containers.filter((c) => c.state === 'running' || c.state === 'restarting');
    const stopped = containers.filter((c) => !running.includes(c));
    const lines = [`up failed after ${(elapsedMs / 1000).toFixed(1)} s`];
    lines.push(running.length === 0 ? `nothing of ${project} is running` : `running:\n${running.map(row).join('\n')}`);
    if (stopped.length > 0) lines.push(`not running (\`mcp-gateway logs NAME\` shows why):\n${stopped.map(row).join('\n')}`);
    return `${lines.join('\n')}\n`;
  } catch {
    return `up failed; could not list what is running (docker ps --filter label=io.mcp-gateway.project=${project})\n`;
  }
}

function summary(report: UpReport, result: UpResult): string {
  const counts = new Map<string, number>();
  for (const s of result.services) counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
  const changed = [...counts].map(([outcome, n]) => `${n} ${outcome}`);
  if (result.removed.length > 0) changed.push(`${result.removed.length} removed (${result.removed.join(', ')})`);
  const lines = [`mcp-gateway is up (project ${report.project}): ${changed.join(', ')} in ${(report.durationMs / 1000).toFixed(1)} s`, ''];
  for (const { server, url } of report.endpoints) lines.push(`  ${server.padEnd(20)} ${url}`);
  lines.push(`  ${'health'.padEnd(20)} ${report.health}`, '');
  return `${lines.join('\n')}\n`;
}
