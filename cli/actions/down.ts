import { deployDown, type DownResult } from '../deploy/docker/deploy-down.js';
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
}

/** What `down --json` prints. */
export interface DownReport {
  project: string;
  removed: DownResult;
  /** Volumes of the project still there (down without --volumes). */
  keptVolumes: string[];
}

export interface DownDeps {
  output: CliOutput;
  connect?: () => Promise<DockerConnection>;
}

/** `mcp-gateway down`: stops and removes the project's containers and network; its volumes only with --volumes. */
export async function runDown(options: DownOptions, deps: Partial<DownDeps> = {}): Promise<DownReport> {
  const output = deps.output ?? processOutput;
  const { project, connection } = await deploymentTarget(options.dir, deps.connect);
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
