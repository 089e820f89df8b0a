import type Docker from 'dockerode';
import { dockerStatus } from './engine-error.js';
import { GatewayError } from '../../../runtime/errors.js';
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
    const found = await inspected(() => docker.getNetwork(network.name).inspect() as Promise<{ Internal?: boolean }>);
    if (found !== undefined) {
      // Docker cannot change it in place; joining it anyway would give a `network: none` server a route out.
      if ((found.Internal ?? false) !== network.internal) throw internalMismatch(network, found.Internal ?? false);
      continue;
    }
    if (network.external) throw missingExternal('network', network);
    await docker.createNetwork({
      Name: network.name,
      Driver: network.driver ?? 'bridge',
      Options: network.driverOpts,
      CheckDuplicate: true,
      ...(network.internal ? { Internal: true } : {}),
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

/**
 * After a successful `up`: removes the project's networks no service uses any more (a removed
 * server's, or the one a bridge had before `network: none` was switched on), so they neither pile
 * up in the engine's address pools nor keep a stale route. Best effort: one still in use stays.
 * Volumes are never removed here: they hold data.
 */
export async function removeUnusedNetworks(docker: Docker, project: ComposeProject): Promise<string[]> {
  const used = new Set(project.services.flatMap((s) => s.networks.map((n) => project.networks[n.key]?.name ?? `${project.name}_${n.key}`)));
  const removed: string[] = [];
  for (const name of (await listProjectNetworksAndVolumes(docker, project.name)).networks) {
    if (used.has(name)) continue;
    try {
      await docker.getNetwork(name).remove();
      removed.push(name);
    } catch {
      // In use by something else, or gone already: `down` removes what is left.
    }
  }
  return removed;
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
  return (await inspected(inspect)) !== undefined;
}

async function inspected<T>(inspect: () => Promise<T>): Promise<T | undefined> {
  try {
    return await inspect();
  } catch (err) {
    if (dockerStatus(err) === 404) return undefined;
    throw err;
  }
}

function internalMismatch(network: ComposeResource, actual: boolean): GatewayError {
  return new GatewayError(
    'ERR_COMPOSE_INVALID',
    `the network ${network.name} exists with internal: ${actual}, but compose.yaml wants internal: ${network.internal}`,
    {
      hint: `remove it first (mcp-gateway down, or docker network rm ${network.name}), then run up again`,
    },
  );
}

function missingExternal(kind: 'network' | 'volume', resource: ComposeResource): GatewayError {
  return new GatewayError('ERR_COMPOSE_INVALID', `the external ${kind} ${resource.name} does not exist`, {
    hint: `create it first (docker ${kind} create ${resource.name})`,
  });
}
