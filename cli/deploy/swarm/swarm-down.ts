import type Docker from 'dockerode';
import { GatewayError } from '../../../runtime/errors.js';
import { dockerMessage, dockerStatus } from '../docker/engine-error.js';
import { sleep } from '../docker/wait-ready.js';
import { STACK_NAMESPACE } from './stack-names.js';
import { listProjectObjects, listProjectServices, swarmProjectFilter } from './swarm-objects.js';

export type SwarmObjectKind = 'service' | 'network' | 'secret' | 'config' | 'volume';

export interface SwarmDownOptions {
  /** Also remove the project's volumes on this node (Redis data: tokens, clients, consents). */
  volumes?: boolean;
  onRemoved?: (kind: SwarmObjectKind, name: string) => void;
  /** How long the tasks may take to stop (a bridge drains its sessions first) before their networks are given up on. */
  timeoutMs?: number;
}

export interface SwarmDownResult {
  services: string[];
  networks: string[];
  secrets: string[];
  configs: string[];
  volumes: string[];
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Removes the project's swarm objects, by label: its services, then (once their tasks have let
 * go of them) its networks, its configs and secrets, and with `volumes` its volumes on this node
 * (a volume lives on the node its task ran on; other nodes keep theirs). Nothing without both the
 * project and the stack-namespace label is looked at, and removing what is gone is not an error.
 */
export async function swarmDown(docker: Docker, project: string, options: SwarmDownOptions = {}): Promise<SwarmDownResult> {
  const notify = options.onRemoved ?? (() => {});
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const result: SwarmDownResult = { services: [], networks: [], secrets: [], configs: [], volumes: [] };
  for (const service of await listProjectServices(docker, project)) {
    await gone(() => docker.getService(service.id).remove(), `removing the service ${service.name}`);
    result.services.push(service.name);
    notify('service', service.name);
  }
  // A network or volume is refused while a stopping task's container still uses it: retried until the deadline.
  const removeWhenFree = async (kind: 'network' | 'volume', name: string, remove: () => Promise<unknown>): Promise<void> => {
    for (;;) {
      try {
        await remove();
        return;
      } catch (err) {
        const status = dockerStatus(err);
        if (status === 404) return;
        if (Date.now() >= deadline || (status !== 409 && status !== 403 && status !== 500)) {
          throw new GatewayError('ERR_DOCKER_REMOVE_FAILED', `removing the ${kind} ${name} failed: ${dockerMessage(err)}`, {
            hint: `its tasks may still be stopping (a bridge drains its sessions first): run down again in a minute; \`docker ${kind} inspect ${name}\` shows what uses it`,
            cause: err,
          });
        }
        await sleep(1_000);
      }
    }
  };
  const objects = await listProjectObjects(docker, project);
  for (const network of objects.networks) {
    await removeWhenFree('network', network.name, () => docker.getNetwork(network.id).remove());
    result.networks.push(network.name);
    notify('network', network.name);
  }
  for (const secret of objects.secrets) {
    await gone(() => docker.getSecret(secret.id).remove(), `removing the secret ${secret.name}`);
    result.secrets.push(secret.name);
    notify('secret', secret.name);
  }
  for (const config of objects.configs) {
    await gone(() => docker.getConfig(config.id).remove(), `removing the config ${config.name}`);
    result.configs.push(config.name);
    notify('config', config.name);
  }
  if (options.volumes) {
    for (const name of await listProjectVolumes(docker, project)) {
      await removeWhenFree('volume', name, () => docker.getVolume(name).remove());
      result.volumes.push(name);
      notify('volume', name);
    }
  }
  return result;
}

/** The project's volumes on this node: swarm creates them from the mounts' labels, ours and the namespace. */
export async function listProjectVolumes(docker: Docker, project: string): Promise<string[]> {
  const volumes = (await docker.listVolumes({ filters: swarmProjectFilter(project) })).Volumes ?? [];
  return volumes
    .filter((volume) => volume.Labels?.[STACK_NAMESPACE] === project)
    .map((volume) => volume.Name)
    .sort();
}

async function gone(step: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await step();
  } catch (err) {
    if (dockerStatus(err) === 404) return;
    throw new GatewayError('ERR_DOCKER_REMOVE_FAILED', `${what} failed: ${dockerMessage(err)}`, {
      hint: 'something outside this deployment may use it; `docker service ls` and `docker secret ls` on a manager show what',
      cause: err,
    });
  }
}
