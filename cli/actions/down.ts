import { projectPaths } from '../../runtime/config/project-paths.js';
import { deployDown, type DownResult } from '../deploy/docker/deploy-down.js';
import { parseDeployTarget, UP_TARGETS } from '../deploy/deploy-target.js';
import { renderedTarget } from '../deploy/docker-deployment.js';
import { listProjectVolumes, swarmDown, type SwarmDownResult } from '../deploy/swarm/swarm-down.js';
import { assertSwarmManager } from '../deploy/swarm/swarm-manager.js';
import type { DockerConnection } from '../deploy/docker/docker-connection.js';
import { listProjectNetworksAndVolumes } from '../deploy/docker/project-resources.js';
import { deploymentTarget } from '../deployment-target.js';
import { processOutput, type CliOutput } from '../output.js';

export interface DownOptions {
  dir: string;
  /**
   * Also remove the volumes: Redis data (tokens, registered clients, consents) is lost. A server's
   * data volume is a bind of its directory under .mcp-gateway/servers/, which stays on the host.
   */
  volumes?: boolean | undefined;
  /** The result as one JSON document on stdout (DownReport); the removals stay on stderr. */
  json?: boolean | undefined;
  /** `--target`: compose or swarm; default the target deploy/ was rendered for, else compose. */
  target?: string | undefined;
}

/** What `down --json` prints. */
export interface DownReport {
  project: string;
  removed: DownResult;
  /** Volumes of the project still there (down without --volumes). */
  keptVolumes: string[];
}

/** What `down --target swarm --json` prints. */
export interface SwarmDownReport {
  target: 'swarm';
  project: string;
  removed: SwarmDownResult;
  /** Volumes of the project still on this node (down without --volumes). */
  keptVolumes: string[];
}

export interface DownDeps {
  output: CliOutput;
  connect?: () => Promise<DockerConnection>;
}

/** `mcp-gateway down`: stops and removes the project's containers and network; its volumes only with --volumes. */
export async function runDown(options: DownOptions, deps: Partial<DownDeps> = {}): Promise<DownReport | SwarmDownReport> {
  const output = deps.output ?? processOutput;
  const target = parseDeployTarget(options.target ?? (await renderedTarget(projectPaths(options.dir))), UP_TARGETS);
  const { project, connection } = await deploymentTarget(options.dir, deps.connect);
  if (target === 'swarm') return swarmDownAction(options, output, project, connection);
  const result = await deployDown(connection.docker, project, {
    volumes: options.volumes === true,
    onRemoved: (kind, name) => output.stderr(`removed ${kind} ${name}\n`),
  });
  const removed = result.containers.length + result.networks.length + result.volumes.length;
  const kept = options.volumes ? [] : (await listProjectNetworksAndVolumes(connection.docker, project)).volumes;
  const report: DownReport = { project, removed: result, keptVolumes: kept };
  if (options.json) {
    output.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return report;
  }
  const lines = [removed === 0 ? `nothing of ${project} to remove` : `${project} is down`];
  if (kept.length > 0)
    lines.push(`kept the volumes ${kept.join(', ')} (Redis data: tokens, clients, consents; each server's data directory); remove them with --volumes`);
  output.stdout(`${lines.join('\n')}\n`);
  return report;
}

/** `down --target swarm`: the project's services, then its networks, configs and secrets; its volumes on this node only with --volumes. */
async function swarmDownAction(options: DownOptions, output: CliOutput, project: string, connection: DockerConnection): Promise<SwarmDownReport> {
  await assertSwarmManager(connection);
  const removed = await swarmDown(connection.docker, project, {
    volumes: options.volumes === true,
    onRemoved: (kind, name) => output.stderr(`removed ${kind} ${name}\n`),
  });
  const kept = options.volumes ? [] : await listProjectVolumes(connection.docker, project);
  const report: SwarmDownReport = { target: 'swarm', project, removed, keptVolumes: kept };
  if (options.json) {
    output.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return report;
  }
  const count = Object.values(removed).reduce((n, names) => n + names.length, 0);
  const lines = [count === 0 ? `nothing of ${project} to remove from the swarm` : `${project} is down (swarm)`];
  if (kept.length > 0) lines.push(`kept the volumes ${kept.join(', ')} on this node (Redis data: tokens, clients, consents); remove them with --volumes`);
  output.stdout(`${lines.join('\n')}\n`);
  return report;
}
