import type { DockerConnection } from '../deploy/docker/docker-connection.js';
import { listProjectContainers, type ProjectContainer } from '../deploy/docker/project-containers.js';
import { deploymentTarget } from '../deployment-target.js';
import { processOutput, type CliOutput } from '../output.js';

export interface StatusOptions {
  dir: string;
  /** One JSON document on stdout, nothing else. */
  json?: boolean | undefined;
}

export interface StatusDeps {
  output: CliOutput;
  connect?: () => Promise<DockerConnection>;
}

/** The `status --json` document. */
export interface DeploymentStatus {
  project: string;
  services: Array<{
    service: string | null;
    server: string | null;
    container: string;
    /** Docker's state: running, exited, restarting, created, paused, dead. */
    state: string;
    /** healthy, unhealthy, starting; null without a healthcheck or when not running. */
    health: string | null;
    /** `HOST_IP:HOST_PORT->PORT/PROTO`. */
    ports: string[];
    image: string;
    /** Docker's words, e.g. "Up 3 minutes (healthy)". */
    status: string;
  }>;
}

/** `mcp-gateway status`: the project's containers (found by its label) with state, health and ports. */
export async function runStatus(options: StatusOptions, deps: Partial<StatusDeps> = {}): Promise<DeploymentStatus> {
  const output = deps.output ?? processOutput;
  const { project, connection } = await deploymentTarget(options.dir, deps.connect);
  const containers = await listProjectContainers(connection.docker, project);
  const status: DeploymentStatus = { project, services: containers.map(describe) };
  if (options.json) {
    output.stdout(`${JSON.stringify(status, null, 2)}\n`);
    return status;
  }
  if (status.services.length === 0) {
    output.stdout(`${project}: no containers (start it with mcp-gateway up)\n`);
    return status;
  }
  const rows = [
    ['SERVICE', 'CONTAINER', 'STATE', 'HEALTH', 'PORTS'],
    ...status.services.map((s) => [s.service ?? '?', s.container, s.state, s.health ?? '-', s.ports.filter((p) => p.includes('->')).join(', ') || '-']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  output.stdout(`${project}\n${rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`);
  return status;
}

function describe(c: ProjectContainer): DeploymentStatus['services'][number] {
  return {
    service: c.service ?? null,
    server: c.server ?? null,
    container: c.name,
    state: c.state,
    health: c.state === 'running' ? (c.health ?? null) : null,
    ports: c.ports,
    image: c.image,
    status: c.status,
  };
}
