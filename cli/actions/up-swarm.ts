import { join } from 'node:path';
import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import type { UpDeps, UpOptions } from './up.js';
import { renderForUp } from './up-render.js';
import { deploymentTarget } from '../deployment-target.js';
import type { CliOutput } from '../output.js';
import { withUpProgress } from '../up-progress.js';
import { deploymentImages, describeImages, type DeploymentImages } from '../deploy/image-overrides.js';
import { loadStack } from '../deploy/swarm/load-stack.js';
import { STACK_FILE } from '../deploy/swarm/render-stack.js';
import { assertSwarmManager } from '../deploy/swarm/swarm-manager.js';
import { listProjectServices } from '../deploy/swarm/swarm-objects.js';
import { deploySwarm, type SwarmUpResult } from '../deploy/swarm/swarm-up.js';
import type { DockerConnection } from '../deploy/docker/docker-connection.js';

/** What `up --target swarm --json` prints. */
export interface SwarmUpReport {
  target: 'swarm';
  project: string;
  deployFolder: string;
  images: DeploymentImages;
  services: SwarmUpResult['services'];
  removed: string[];
  endpoints: Array<{ server: string; url: string }>;
  health: string;
  /** Nodes of the swarm: with more than one, the images built here must reach the others (docs/swarm.md). */
  nodes: number;
  durationMs: number;
}

/**
 * `up --target swarm`: the same steps as `up` (render, then make the engine match what was
 * rendered), on a swarm: stack.yaml instead of compose.yaml, through a manager, which must
 * already be one (ERR_SWARM_UNAVAILABLE otherwise, before anything is written).
 */
export async function runSwarmUp(
  options: UpOptions,
  deps: Partial<UpDeps> & { output: CliOutput },
  { started, timeoutMs }: { started: number; timeoutMs: number | undefined },
): Promise<SwarmUpReport> {
  const { output } = deps;
  const { config, project, connection } = await deploymentTarget(options.dir, deps.connect);
  const manager = await assertSwarmManager(connection);
  const { effective, rendered } = await renderForUp(options, config, { user: deps.user, target: 'swarm' });
  const stack = await loadStack(join(rendered.out, STACK_FILE), { project });
  for (const name of stack.unsetVariables) output.stderr(`warning: stack.yaml uses \${${name}}, which is not set; it is empty\n`);
  const images = deploymentImages(rendered);
  output.stderr(`${describeImages(images)}\n`);
  if (manager.nodes > 1) {
    output.stderr(
      `warning: this swarm has ${manager.nodes} nodes; images built here exist on this node only: push them to a registry the nodes pull from (docs/swarm.md)\n`,
    );
  }

  const result = await withUpProgress(
    output,
    deps.interactive ?? false,
    (onEvent) => deploySwarm({ connection, stack, onEvent, timeoutMs, ...(deps.signal ? { signal: deps.signal } : {}) }),
    () => whatIsRunning(connection, project, Date.now() - started),
  );
  const urls = gatewayUrls(effective);
  const report: SwarmUpReport = {
    target: 'swarm',
    project,
    deployFolder: rendered.out,
    images,
    services: result.services,
    removed: result.removed,
    endpoints: urls.serverNames.map((server) => ({ server, url: urls.resourceFor(server) })),
    health: `${urls.issuer}/health`,
    nodes: manager.nodes,
    durationMs: Date.now() - started,
  };
  output.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
  return report;
}

/** After a failure: each service of the project with its running and desired replicas, as the manager reports them. */
async function whatIsRunning(connection: DockerConnection, project: string, elapsedMs: number): Promise<string> {
  try {
    const services = await listProjectServices(connection.docker, project);
    if (services.length === 0) return `up failed after ${(elapsedMs / 1000).toFixed(1)} s; no service of ${project} exists\n`;
    const rows = services.map((s) =>
      `  ${s.service.padEnd(20)} ${`${s.running}/${s.desired}`.padEnd(6)} ${s.update ? `update ${s.update.state}` : ''}`.trimEnd(),
    );
    return `up failed after ${(elapsedMs / 1000).toFixed(1)} s; the services of ${project} (running/desired; \`mcp-gateway logs --target swarm NAME\` shows why):\n${rows.join('\n')}\n`;
  } catch {
    return `up failed; could not list the services (docker service ls --filter label=io.mcp-gateway.project=${project})\n`;
  }
}

function summary(report: SwarmUpReport): string {
  const counts = new Map<string, number>();
  for (const s of report.services) counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
  const changed = [...counts].map(([outcome, n]) => `${n} ${outcome}`);
  if (report.removed.length > 0) changed.push(`${report.removed.length} removed (${report.removed.join(', ')})`);
  const lines = [`mcp-gateway is up on the swarm (stack ${report.project}): ${changed.join(', ')} in ${(report.durationMs / 1000).toFixed(1)} s`, ''];
  for (const { server, url } of report.endpoints) lines.push(`  ${server.padEnd(20)} ${url}`);
  lines.push(`  ${'health'.padEnd(20)} ${report.health}`, '');
  return `${lines.join('\n')}\n`;
}
