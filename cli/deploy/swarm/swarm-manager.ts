import { GatewayError } from '../../../runtime/errors.js';
import type { DockerConnection } from '../docker/docker-connection.js';
import { dockerMessage } from '../docker/engine-error.js';

interface SwarmInfo {
  LocalNodeState?: string;
  ControlAvailable?: boolean;
  Error?: string;
  Nodes?: number;
}

/** What the engine says about its swarm: how many nodes (for the hints about images and ports). */
export interface SwarmManager {
  nodes: number;
}

/**
 * The swarm target deploys on a swarm the operator already has, through one of its managers
 * (only managers take service, secret and config calls). Creating a swarm is theirs to decide:
 * `docker swarm init` changes the engine for every other user of it.
 */
export async function assertSwarmManager(connection: DockerConnection): Promise<SwarmManager> {
  let swarm: SwarmInfo | undefined;
  try {
    swarm = ((await connection.docker.info()) as { Swarm?: SwarmInfo }).Swarm;
  } catch (err) {
    throw new GatewayError('ERR_DOCKER_UNREACHABLE', `Docker at ${connection.endpoint} did not say whether it is in a swarm: ${dockerMessage(err)}`, {
      hint: 'check the engine (docker info), then run the command again',
      cause: err,
    });
  }
  const state = swarm?.LocalNodeState ?? 'inactive';
  if (state !== 'active') {
    throw new GatewayError(
      'ERR_SWARM_UNAVAILABLE',
      `the Docker engine at ${connection.endpoint} is not part of a swarm (its swarm state is ${state}${swarm?.Error ? `: ${swarm.Error}` : ''})`,
      {
        hint: 'run `docker swarm init` to make this host a single-node swarm (or `docker swarm join` an existing one), or point DOCKER_HOST at a manager of your swarm; `mcp-gateway up` without --target deploys with compose instead',
      },
    );
  }
  if (swarm?.ControlAvailable !== true) {
    throw new GatewayError('ERR_SWARM_UNAVAILABLE', `the Docker engine at ${connection.endpoint} is a swarm worker; services are deployed through a manager`, {
      hint: 'run the command on a manager node (`docker node ls` on one lists them) or point DOCKER_HOST at one; a host without a swarm gets one with `docker swarm init`',
    });
  }
  return { nodes: swarm.Nodes ?? 1 };
}
