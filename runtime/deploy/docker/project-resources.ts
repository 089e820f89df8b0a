import type Docker from 'dockerode';
import { dockerStatus } from './engine-error.js';
import { GatewayError } from '../../errors.js';
import type { ComposeProject, ComposeResource } from './compose-model.js';
import { COMPOSE_NETWORK, COMPOSE_PROJECT, COMPOSE_VOLUME, LABEL_PROJECT } from './labels.js';

/**
 * Creates the networks and volumes compose.yaml declares and the services use, when missing,
 * and returns the names of those it created: a failed `up` removes them again (a volume created
 * by that run holds nothing older than it; an existing one, with Redis data, is never touched).
 */
export async function ensureNetworksAndVolumes(docker: Docker, project: ComposeProject): Promise<{ createdNetworks: string[]; createdVolumes: string[] }> {
  const usedNetworks = new Set(project.services.flatMap((s) => s.networks.map((n) => n.key)));
  const usedVolumes = new Set(project.services.flatMap((s) => s.mounts.flatMap((m) => (m.type === 'volume' && m.source !== undefined ? [m.source] : []))));
  const createdNetworks: string[] = [];
  const createdVolumes: string[] = [];
  for (const [key, network] of Object.entries(project.networks)) {
    if (!usedNetworks.has(key)) continue;
    if (await exists(() => docker.getNetwork(network.name).inspect())) continue;
    if (network.external) throw missingExternal('network', network);
    await docker.createNetwork({
      Name: network.name,
      Driver: network.driver ?? 'bridge',
      Options: network.driverOpts,
      CheckDuplicate: true,
      Labels: { ...network.labels, [LABEL_PROJECT]: project.name, [COMPOSE_PROJECT]: project.name, [COMPOSE_NETWORK]: key },
    });
    createdNetworks.push(network.name);
  }
  for (const [key, volume] of Object.entries(project.volumes)) {
    if (!usedVolumes.has(key)) continue;
    if (await exists(() => docker.getVolume(volume.name).inspect())) continue;
    if (volume.external) throw missingExternal('volume', volume);
    await docker.createVolume({
      Name: volume.name,
      Driver: volume.driver ?? 'local',
      DriverOpts: volume.driverOpts,
      Labels: { ...volume.labels, [LABEL_PROJECT]: project.name, [COMPOSE_PROJECT]: project.name, [COMPOSE_VOLUME]: key },
    });
    createdVolumes.push(volume.name);
  }
  return { createdNetworks, createdVolumes };
}

/** Networks and volumes of the project: ours carry our label, ones `docker compose up` made carry compose's. */
export async function listProjectNetworksAndVolumes(docker: Docker, project: string): Promise<{ networks: string[]; volumes: string[] }> {
  const networks = new Set<string>();
  const volumes = new Set<string>();
  for (const label of [`${LABEL_PROJECT}=${project}`, `${COMPOSE_PROJECT}=${project}`]) {
    for (const network of await docker.listNetworks({ filters: { label: [label] } })) networks.add(network.Name);
    for (const volume of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) volumes.add(volume.Name);
  }
  return { networks: [...networks].sort(), volumes: [...volumes].sort() };
}

async function exists(inspect: () => Promise<unknown>): Promise<boolean> {
  try {
    await inspect();
    return true;
  } catch (err) {
    if (dockerStatus(err) === 404) return false;
    throw err;
  }
}

function missingExternal(kind: 'network' | 'volume', resource: ComposeResource): GatewayError {
  return new GatewayError('ERR_COMPOSE_INVALID', `the external ${kind} ${resource.name} does not exist`, { hint: `create it first (docker ${kind} create ${resource.name})` });
}
