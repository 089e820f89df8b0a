import { projectPaths } from '../../runtime/config/project-paths.js';
import { containerLogs } from '../deploy/docker/container-logs.js';
import { parseDeployTarget, UP_TARGETS } from '../deploy/deploy-target.js';
import { renderedTarget } from '../deploy/docker-deployment.js';
import { serviceLogs } from '../deploy/swarm/service-logs.js';
import { assertSwarmManager } from '../deploy/swarm/swarm-manager.js';
import { listProjectServices } from '../deploy/swarm/swarm-objects.js';
import type { DockerConnection } from '../deploy/docker/docker-connection.js';
import { listProjectContainers } from '../deploy/docker/project-containers.js';
import { GatewayError } from '../../runtime/errors.js';
import { deploymentTarget } from '../deployment-target.js';
import { processOutput, type CliOutput } from '../output.js';

export interface LogsOptions {
  dir: string;
  /** A service (auth, router, redis, bridge-NAME), a server NAME, or a container name; all when absent. */
  name?: string | undefined;
  follow?: boolean | undefined;
  /** Lines per container from the end (a number, as typed). */
  tail?: string | undefined;
  /** Without the `service | ` prefix (e.g. to pipe one service's JSON lines into jq). */
  prefix?: boolean | undefined;
  /** `--target`: compose or swarm; default the target deploy/ was rendered for, else compose. */
  target?: string | undefined;
}

export interface LogsDeps {
  output: CliOutput;
  connect?: () => Promise<DockerConnection>;
  /** Ends --follow (Ctrl+C). */
  signal?: AbortSignal;
}

/** `mcp-gateway logs`: the containers' output, demultiplexed, each line prefixed by its service. */
export async function runLogs(options: LogsOptions, deps: Partial<LogsDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  if (options.tail !== undefined && !/^\d+$/.test(options.tail)) {
    throw new GatewayError('ERR_USAGE', `--tail ${options.tail} is not a number of lines`, { hint: 'e.g. --tail 100' });
  }
  const target = parseDeployTarget(options.target ?? (await renderedTarget(projectPaths(options.dir))), UP_TARGETS);
  const { project, connection } = await deploymentTarget(options.dir, deps.connect);
  if (target === 'swarm') return swarmLogs(options, output, project, connection, deps.signal);
  const all = await listProjectContainers(connection.docker, project);
  const name = options.name;
  const chosen = name === undefined ? all : all.filter((c) => c.service === name || c.server === name || c.name === name || c.service === `bridge-${name}`);
  if (chosen.length === 0) {
    if (all.length === 0) throw new GatewayError('ERR_SERVER_UNKNOWN', `${project} has no containers`, { hint: 'start it with `mcp-gateway up`' });
    const services = [...new Set(all.map((c) => c.service ?? c.name))].join(', ');
    throw new GatewayError('ERR_SERVER_UNKNOWN', `${project} has no service or server ${name}`, { hint: `one of: ${services}` });
  }
  const targets = chosen.map((c) => ({ id: c.id, service: c.service ?? c.name }));
  const width = Math.max(...targets.map((t) => t.service.length));
  await containerLogs(
    connection.docker,
    targets,
    { follow: options.follow === true, ...(options.tail === undefined ? {} : { tail: Number(options.tail) }), ...(deps.signal ? { signal: deps.signal } : {}) },
    (line) => output.stdout(options.prefix === false ? `${line.text}\n` : `${line.service.padEnd(width)} | ${line.text}\n`),
  );
}

/** `logs --target swarm`: each chosen service's lines from the manager (every task, on any node), prefixed service.slot when it has replicas. */
async function swarmLogs(
  options: LogsOptions,
  output: CliOutput,
  project: string,
  connection: DockerConnection,
  signal: AbortSignal | undefined,
): Promise<void> {
  await assertSwarmManager(connection);
  const all = await listProjectServices(connection.docker, project);
  const name = options.name;
  const chosen = name === undefined ? all : all.filter((s) => s.service === name || s.server === name || s.name === name || s.service === `bridge-${name}`);
  if (chosen.length === 0) {
    if (all.length === 0)
      throw new GatewayError('ERR_SERVER_UNKNOWN', `${project} has no swarm services`, { hint: 'start it with `mcp-gateway up --target swarm`' });
    throw new GatewayError('ERR_SERVER_UNKNOWN', `${project} has no service or server ${name}`, { hint: `one of: ${all.map((s) => s.service).join(', ')}` });
  }
  const targets = chosen.map((s) => ({ id: s.id, service: s.service, replicas: s.desired }));
  const width = Math.max(...targets.map((t) => t.service.length + (t.replicas > 1 ? String(t.replicas).length + 1 : 0)));
  await serviceLogs(
    connection.docker,
    targets,
    { follow: options.follow === true, ...(options.tail === undefined ? {} : { tail: Number(options.tail) }), ...(signal ? { signal } : {}) },
    (line) => output.stdout(options.prefix === false ? `${line.text}\n` : `${line.source.padEnd(width)} | ${line.text}\n`),
  );
}
