import type Docker from 'dockerode';
import { GatewayError } from '../../../runtime/errors.js';
import { dockerMessage, dockerStatus } from './engine-error.js';
import { listProjectContainers } from './project-containers.js';
import { listProjectNetworksAndVolumes } from './project-resources.js';

export interface DownOptions {
  /** Also remove the project's volumes (Redis data: tokens, clients, consents). */
  volumes?: boolean;
  onRemoved?: (kind: 'container' | 'network' | 'volume', name: string) => void;
}

export interface DownResult {
  containers: string[];
  networks: string[];
  volumes: string[];
}

const STOP_TIMEOUT_S = 10;

/**
 * Stops and removes everything labelled with the project: its containers, then its networks,
 * and its volumes only when asked. Anything else on the engine is never looked at. Removing
 * what is already gone is not an error, so `down` can be repeated.
 */
export async function deployDown(docker: Docker, project: string, options: DownOptions = {}): Promise<DownResult> {
  const result: DownResult = { containers: [], networks: [], volumes: [] };
  const notify = options.onRemoved ?? (() => {});
  const containers = await listProjectContainers(docker, project);
  // Side by side: each stop may take its grace period.
  await Promise.all(
    containers.map(async (c) => {
      await gone(() => docker.getContainer(c.id).stop({ t: STOP_TIMEOUT_S }), `stopping ${c.name}`, [304]);
      await gone(() => docker.getContainer(c.id).remove({ force: true, v: options.volumes === true }), `removing ${c.name}`);
      result.containers.push(c.name);
      notify('container', c.name);
    }),
  );
  const { networks, volumes } = await listProjectNetworksAndVolumes(docker, project);
  for (const name of networks) {
    await gone(() => docker.getNetwork(name).remove(), `removing network ${name}`);
    result.networks.push(name);
    notify('network', name);
  }
  if (options.volumes) {
    for (const name of volumes) {
      await gone(() => docker.getVolume(name).remove(), `removing volume ${name}`);
      result.volumes.push(name);
      notify('volume', name);
    }
  }
  result.containers.sort();
  return result;
}

async function gone(step: () => Promise<unknown>, what: string, alsoFine: number[] = []): Promise<void> {
  try {
    await step();
  } catch (err) {
    const status = dockerStatus(err);
    if (status === 404 || (status !== undefined && alsoFine.includes(status))) return;
    throw new GatewayError('ERR_DOCKER_REMOVE_FAILED', `${what} failed: ${dockerMessage(err)}`, {
      hint: 'something outside this deployment may use it (a container attached to the network, a volume in use); `docker ps -a` shows what',
      cause: err,
    });
  }
}
