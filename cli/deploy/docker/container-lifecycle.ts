import type Docker from 'dockerode';
import { GatewayError } from '../../../runtime/errors.js';
import type { ComposeProject } from './compose-model.js';
import type { ContainerSpec } from './container-spec.js';
import { dockerMessage, dockerStatus } from './engine-error.js';
import { isPortConflict, portInUse } from './port-check.js';
import type { ExistingContainer, ServiceAction } from './reconcile-plan.js';

/** What one `up` run changed, so a failure can put it back. */
export interface Changes {
  created: Array<{ service: string; id: string }>;
  /** Old containers of recreated services, stopped and renamed aside until the new ones are up. */
  replaced: Array<{ old: ExistingContainer; wasRunning: boolean }>;
  /** Containers of services that are gone, stopped first (they may hold a port a new service needs). */
  orphans: Array<{ old: ExistingContainer; wasRunning: boolean }>;
  started: Array<{ service: string; id: string }>;
  createdNetworks: string[];
  createdVolumes: string[];
}

export function noChanges(): Changes {
  return { created: [], replaced: [], orphans: [], started: [], createdNetworks: [], createdVolumes: [] };
}

const STOP_TIMEOUT_S = 10;

/** Creates and starts a service's container; it is recorded as created before it starts, so a failed start is undone too. */
export async function createAndStart(docker: Docker, spec: ContainerSpec, changes: Changes, project: ComposeProject): Promise<string> {
  let container: Docker.Container;
  try {
    container = await docker.createContainer(spec.create);
  } catch (err) {
    if (dockerStatus(err) === 409) throw nameConflict(spec.containerName, spec.service);
    throw new GatewayError('ERR_DOCKER_START_FAILED', `creating the container of service ${spec.service} failed: ${dockerMessage(err)}`, {
      hint: 'the engine refused the container; compose.yaml and the rendered files may be inconsistent: run `mcp-gateway render` again',
      cause: err,
    });
  }
  changes.created.push({ service: spec.service, id: container.id });
  for (const extra of spec.extraNetworks) {
    await docker.getNetwork(extra.network).connect({ Container: container.id, EndpointConfig: { Aliases: extra.aliases } });
  }
  await startContainer(docker, container.id, spec.service, project);
  return container.id;
}

export async function startContainer(docker: Docker, id: string, service: string, project: ComposeProject): Promise<void> {
  try {
    await docker.getContainer(id).start();
  } catch (err) {
    if (dockerStatus(err) === 304) return;
    if (isPortConflict(err)) {
      const port = project.services.find((s) => s.name === service)?.ports.find((p) => dockerMessage(err).includes(`:${p.published}`));
      throw portInUse(service, port ?? {}, 'another program (Docker refused to bind it)');
    }
    throw new GatewayError('ERR_DOCKER_START_FAILED', `starting the container of service ${service} failed: ${dockerMessage(err)}`, {
      hint: "the message above is the engine's; `mcp-gateway logs` shows what the container wrote",
      cause: err,
    });
  }
}

/** Stops a service's old container and renames it aside, so its successor can take the name (and the port). */
export async function setAside(docker: Docker, old: ExistingContainer, changes: Changes): Promise<void> {
  const wasRunning = old.state === 'running' || old.state === 'restarting';
  if (wasRunning) await stopQuietly(docker, old.id);
  await docker.getContainer(old.id).rename({ name: `${old.name}-replaced-${old.id.slice(0, 12)}` });
  changes.replaced.push({ old, wasRunning });
}

/** Undoes what a failed run changed; each step is best effort, so one failure does not stop the rest. */
export async function rollBack(docker: Docker, changes: Changes, onService: (service: string, detail: string) => void): Promise<void> {
  for (const { service, id } of [...changes.created].reverse()) {
    await removeQuietly(docker, id);
    onService(service, 'new container removed');
  }
  for (const { old, wasRunning } of [...changes.replaced].reverse()) {
    await attempt(() => docker.getContainer(old.id).rename({ name: old.name }));
    if (wasRunning) await attempt(() => docker.getContainer(old.id).start());
    if (old.service !== undefined) onService(old.service, wasRunning ? 'previous container restarted' : 'previous container kept');
  }
  for (const { old, wasRunning } of changes.orphans) if (wasRunning) await attempt(() => docker.getContainer(old.id).start());
  for (const { id } of changes.started) await stopQuietly(docker, id);
  for (const network of changes.createdNetworks) await attempt(() => docker.getNetwork(network).remove());
  for (const volume of changes.createdVolumes) await attempt(() => docker.getVolume(volume).remove());
}

/**
 * Undoes what a run changed for `services` only (those that failed, or could not start because
 * a dependency failed), leaving every other change in place: a server that cannot start does
 * not take Redis, auth and the router down with it. A new container is stopped but kept, so
 * `mcp-gateway logs` still shows why it failed (the next `up` starts or replaces it); a replaced
 * one is put back; a started one is stopped again.
 */
export async function rollBackServices(
  docker: Docker,
  changes: Changes,
  services: ReadonlySet<string>,
  onService: (service: string, detail: string) => void,
): Promise<void> {
  // A previous container that ran is put back; one that did not run would not serve either: the new one stays (stopped), for its logs.
  const restoring = new Set(
    changes.replaced.flatMap(({ old, wasRunning }) => (wasRunning && old.service !== undefined && services.has(old.service) ? [old.service] : [])),
  );
  for (const { service, id } of [...changes.created].reverse()) {
    if (!services.has(service)) continue;
    if (restoring.has(service)) {
      await removeQuietly(docker, id);
    } else {
      await stopQuietly(docker, id);
    }
  }
  for (const { old, wasRunning } of [...changes.replaced].reverse()) {
    if (old.service === undefined || !services.has(old.service)) continue;
    if (!restoring.has(old.service)) {
      await removeQuietly(docker, old.id);
      continue;
    }
    await attempt(() => docker.getContainer(old.id).rename({ name: old.name }));
    if (wasRunning) await attempt(() => docker.getContainer(old.id).start());
    onService(old.service, wasRunning ? 'previous container restarted' : 'previous container kept');
  }
  for (const { service, id } of changes.started) {
    if (!services.has(service)) continue;
    await stopQuietly(docker, id);
    onService(service, 'stopped again');
  }
}

/** A container the plan creates must not have its name taken by one outside the project (those of the project were matched). */
export async function assertNamesFree(docker: Docker, actions: readonly ServiceAction[], specs: ReadonlyMap<string, ContainerSpec>): Promise<void> {
  for (const action of actions) {
    if (action.kind !== 'create') continue;
    const name = specs.get(action.service)!.containerName;
    try {
      await docker.getContainer(name).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) continue;
      throw err;
    }
    throw nameConflict(name, action.service);
  }
}

function nameConflict(name: string, service: string): GatewayError {
  return new GatewayError('ERR_DOCKER_NAME_CONFLICT', `service ${service}: a container named ${name} exists and is not part of this deployment`, {
    hint: `remove or rename it (docker rm -f ${name}) if it is a leftover, or set deploy.project in mcp-gateway.yaml to a name of its own`,
  });
}

export async function stopQuietly(docker: Docker, id: string): Promise<void> {
  await attempt(() => docker.getContainer(id).stop({ t: STOP_TIMEOUT_S }));
}

export async function removeQuietly(docker: Docker, id: string): Promise<void> {
  await attempt(() => docker.getContainer(id).remove({ force: true }));
}

async function attempt(step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch {
    // Best effort: what is left is reported by the caller from the engine's own listing.
  }
}
