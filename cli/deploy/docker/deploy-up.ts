import { mkdir, stat } from 'node:fs/promises';
import { GatewayError, isGatewayError } from '../../../runtime/errors.js';
import type { ComposeProject } from './compose-model.js';
import {
  assertNamesFree,
  createAndStart,
  noChanges,
  removeQuietly,
  rollBack,
  rollBackServices,
  setAside,
  startContainer,
  stopQuietly,
} from './container-lifecycle.js';
import { containerSpec, type ContainerSpec } from './container-spec.js';
import type { DockerConnection } from './docker-connection.js';
import { ensureImages } from './ensure-images.js';
import { LABEL_SERVER } from './labels.js';
import { assertPortsFree, type PortClaim } from './port-check.js';
import { listProjectContainers } from './project-containers.js';
import { ensureNetworksAndVolumes, removeUnusedNetworks } from './project-resources.js';
import { planReconcile, startOrder } from './reconcile-plan.js';
import { serviceEnvironment } from './service-env.js';
import { interrupted, waitReady } from './wait-ready.js';

export type ServicePhase =
  | 'pending'
  | 'building'
  | 'pulling'
  | 'creating'
  | 'recreating'
  | 'starting'
  | 'waiting'
  | 'healthy'
  | 'running'
  | 'unchanged'
  | 'failed'
  | 'rolled back'
  | 'removed';

export interface UpEvent {
  service: string;
  phase: ServicePhase;
  detail?: string;
}

export interface UpOptions {
  connection: DockerConnection;
  project: ComposeProject;
  onEvent?: (event: UpEvent) => void;
  /** Per service, from its start until healthy. Servers launched with npx/uvx download on first start. */
  healthTimeoutMs?: number | undefined;
  /** Aborting rolls back what this run changed, like any other failure. */
  signal?: AbortSignal | undefined;
  /** For value-less `environment:` entries and env-file `KEY` lines; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

export type ServiceOutcome = 'created' | 'recreated' | 'started' | 'unchanged';

export interface UpResult {
  services: Array<{ service: string; container: string; outcome: ServiceOutcome }>;
  /** Containers of services no longer in compose.yaml (a removed server), removed. */
  removed: string[];
}

const DEFAULT_HEALTH_TIMEOUT_MS = 180_000;

/**
 * `mcp-gateway up` against the engine: makes the containers match compose.yaml and changes
 * nothing else. Images are built (or pulled) when missing; a service is created when it has no
 * container, recreated when its spec hash changed, started when stopped, left alone otherwise;
 * containers of services that no longer exist are removed once the rest is healthy. Services
 * start after what they depend on (`service_healthy` waits).
 *
 * A service that fails (its container exits, turns unhealthy, or a bridge's server cannot start:
 * launch-probe.ts fails that in seconds) takes only itself and what depends on it down: its own
 * changes are undone (rollBackServices), everything that became healthy stays, and the first
 * failure is thrown. Ctrl+C (`signal`) or a failure of the engine itself undoes every change of
 * the run (new containers removed, replaced ones renamed back and restarted, networks and
 * volumes it created removed).
 */
export async function deployUp(options: UpOptions): Promise<UpResult> {
  const { connection, project, signal } = options;
  const { docker } = connection;
  const emit = options.onEvent ?? (() => {});
  const timeoutMs = options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  for (const service of project.services) emit({ service: service.name, phase: 'pending' });

  // Before any build: a taken port fails in a second, not after minutes of building. A port a
  // container of the project holds is not taken: that container stays, or stops before its
  // successor starts.
  const existing = await listProjectContainers(docker, project.name);
  const claims: PortClaim[] = project.services.flatMap((service) =>
    service.ports.flatMap((port) => (port.published === undefined ? [] : [{ service: service.name, port: { ...port, published: port.published } }])),
  );
  await assertPortsFree(docker, claims, { local: connection.local, ignoreContainers: new Set(existing.map((c) => c.id)) });

  const imageIds = await ensureImages(docker, project, ({ services, phase, image }) => {
    const mapped: ServicePhase | undefined = phase === 'building' ? 'building' : phase === 'pulling' ? 'pulling' : undefined;
    if (mapped) for (const service of services) emit({ service, phase: mapped, detail: image });
  });
  if (signal?.aborted) throw interrupted();

  const specs = new Map<string, ContainerSpec>();
  for (const service of project.services) {
    const env = await serviceEnvironment(service, options.env);
    specs.set(service.name, containerSpec(project, service, env, imageIds.get(service.image)!));
  }
  const order = startOrder(project.services);
  const plan = planReconcile(
    order.map((name) => ({ service: name, containerName: specs.get(name)!.containerName, hash: specs.get(name)!.hash })),
    existing,
  );
  await assertNamesFree(docker, plan.actions, specs);
  if (connection.local) await createBindSources(project);

  const changes = noChanges();
  const needHealthy = new Set(project.services.flatMap((s) => s.dependsOn.filter((d) => d.condition !== 'service_started').map((d) => d.service)));
  const dependsOn = new Map(project.services.map((s) => [s.name, s.dependsOn.map((d) => d.service)]));
  const bridges = new Set(project.services.filter((s) => s.labels[LABEL_SERVER] !== undefined && s.name.startsWith('bridge-')).map((s) => s.name));
  const containerOf = new Map<string, string>();
  /** Services that failed in this run, or were not started because something they depend on failed; in the order it happened. */
  const failed = new Map<string, unknown>();
  const blockedBy = (service: string): string | undefined => dependsOn.get(service)?.find((d) => failed.has(d));
  const fail = (service: string, err: unknown): void => {
    if (failed.has(service)) return;
    failed.set(service, err);
    emit({ service, phase: 'failed', detail: firstLine(err) });
  };
  const waitOptions = (service: string, timeout: number, stop: AbortSignal | undefined) => ({
    service,
    timeoutMs: timeout,
    launchProbe: bridges.has(service),
    ...(stop ? { signal: stop } : {}),
  });
  try {
    Object.assign(changes, await ensureNetworksAndVolumes(docker, project));
    for (const orphan of plan.orphans) {
      const wasRunning = orphan.state === 'running' || orphan.state === 'restarting';
      changes.orphans.push({ old: orphan, wasRunning });
      if (wasRunning) await stopQuietly(docker, orphan.id);
    }
    for (const action of plan.actions) {
      if (signal?.aborted) throw interrupted();
      const blocker = blockedBy(action.service);
      if (blocker !== undefined) {
        fail(action.service, notStarted(action.service, blocker));
        continue;
      }
      const spec = specs.get(action.service)!;
      try {
        if (action.kind === 'keep') {
          containerOf.set(action.service, action.container.id);
          emit({ service: action.service, phase: 'unchanged' });
        } else if (action.kind === 'start') {
          emit({ service: action.service, phase: 'starting' });
          changes.started.push({ service: action.service, id: action.container.id });
          await startContainer(docker, action.container.id, action.service, project);
          containerOf.set(action.service, action.container.id);
        } else {
          if (action.kind === 'recreate') {
            emit({ service: action.service, phase: 'recreating' });
            await setAside(docker, action.old, changes);
          } else {
            emit({ service: action.service, phase: 'creating' });
          }
          containerOf.set(action.service, await createAndStart(docker, spec, changes, project));
        }
        // Dependents start as soon as the healthcheck's own test passes once (probe), not a whole interval later.
        if (action.kind !== 'keep' && needHealthy.has(action.service)) {
          emit({ service: action.service, phase: 'waiting' });
          await waitReady(docker, containerOf.get(action.service)!, { ...waitOptions(action.service, timeoutMs, signal), probe: true });
        }
      } catch (err) {
        if (signal?.aborted || (isGatewayError(err) && err.code === 'ERR_DOCKER_INTERRUPTED')) throw err;
        fail(action.service, err);
      }
    }
    // Done when Docker itself says healthy, so `status` right after `up` agrees with it. A failure
    // stops the waits of what depends on the failed service only; the others go on.
    const touched = plan.actions.filter((a) => a.kind !== 'keep' && !failed.has(a.service));
    await waitIndependently(
      touched.map((a) => a.service),
      dependsOn,
      async (service, stop) => {
        emit({ service, phase: 'waiting' });
        emit({ service, phase: await waitReady(docker, containerOf.get(service)!, waitOptions(service, timeoutMs, stop)) });
      },
      (service, err) => fail(service, err),
      (service, blocker) => fail(service, notStarted(service, blocker)),
      signal,
    );
    if (signal?.aborted) throw interrupted();
  } catch (err) {
    await rollBack(docker, changes, (service, detail) => emit({ service, phase: 'rolled back', detail }));
    throw err;
  }
  if (failed.size > 0) {
    await rollBackServices(docker, changes, new Set(failed.keys()), (service, detail) => emit({ service, phase: 'rolled back', detail }));
    // What depends on nothing that failed stays up: the orphans' services are gone from the config all the same.
    for (const { old } of changes.orphans) await removeQuietly(docker, old.id);
    for (const { old } of changes.replaced) if (old.service === undefined || !failed.has(old.service)) await removeQuietly(docker, old.id);
    const [first] = failed.values();
    throw first;
  }

  const removed: string[] = [];
  for (const { old } of changes.replaced) await removeQuietly(docker, old.id);
  for (const { old } of changes.orphans) {
    await removeQuietly(docker, old.id);
    removed.push(old.name);
    // A leftover of an interrupted run carries a live service's label: its row stays as it is.
    if (old.service !== undefined && !specs.has(old.service)) emit({ service: old.service, phase: 'removed', detail: old.name });
  }
  await removeUnusedNetworks(docker, project);
  return {
    services: plan.actions.map((a) => ({
      service: a.service,
      container: specs.get(a.service)!.containerName,
      outcome: ({ keep: 'unchanged', start: 'started', create: 'created', recreate: 'recreated' } as const)[a.kind],
    })),
    removed,
  };
}

/**
 * Runs the waits side by side. A failure aborts the waits of the services that depend on the
 * failed one (directly or not), reported through `onBlocked`; the others go on. `outer` aborts all.
 */
async function waitIndependently(
  services: readonly string[],
  dependsOn: ReadonlyMap<string, readonly string[]>,
  wait: (service: string, stop: AbortSignal) => Promise<void>,
  onFailure: (service: string, err: unknown) => void,
  onBlocked: (service: string, blocker: string) => void,
  outer: AbortSignal | undefined,
): Promise<void> {
  const stops = new Map(services.map((service) => [service, new AbortController()]));
  const forward = (): void => {
    for (const stop of stops.values()) stop.abort();
  };
  outer?.addEventListener('abort', forward, { once: true });
  const dependents = (failedService: string): string[] => {
    const found = new Set<string>();
    const visit = (name: string): void => {
      for (const [service, deps] of dependsOn) {
        if (deps.includes(name) && !found.has(service)) {
          found.add(service);
          visit(service);
        }
      }
    };
    visit(failedService);
    return [...found];
  };
  try {
    await Promise.all(
      services.map((service) =>
        wait(service, stops.get(service)!.signal).catch((err: unknown) => {
          const stop = stops.get(service)!;
          if (stop.signal.aborted) return;
          stop.abort();
          onFailure(service, err);
          for (const dependent of dependents(service)) {
            const other = stops.get(dependent);
            if (other === undefined || other.signal.aborted) continue;
            other.abort();
            onBlocked(dependent, service);
          }
        }),
      ),
    );
  } finally {
    outer?.removeEventListener('abort', forward);
  }
}

function notStarted(service: string, blocker: string): GatewayError {
  return new GatewayError('ERR_DOCKER_START_FAILED', `service ${service} was not started: ${blocker}, which it depends on, failed`, {
    hint: `fix ${blocker} first (its error is above), then run \`mcp-gateway up\` again`,
  });
}

/**
 * Docker creates a missing bind source as root; make it first so it belongs to the user running
 * up. The same for the host directory of a bind-backed volume (a server's data directory), which
 * the local driver refuses to mount when it is missing (render made it; it may be gone since).
 */
async function createBindSources(project: ComposeProject): Promise<void> {
  const missing = async (path: string, mode?: number): Promise<void> => {
    try {
      await stat(path);
    } catch {
      await mkdir(path, { recursive: true, ...(mode === undefined ? {} : { mode }) });
    }
  };
  for (const service of project.services) {
    for (const mount of service.mounts) if (mount.type === 'bind' && mount.createHostPath) await missing(mount.source);
  }
  for (const volume of Object.values(project.volumes)) {
    const device = volume.driverOpts['device'];
    if ((volume.driver ?? 'local') === 'local' && volume.driverOpts['o']?.split(',').includes('bind') && device?.startsWith('/')) await missing(device, 0o700);
  }
}

function firstLine(err: unknown): string {
  return (isGatewayError(err) || err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
