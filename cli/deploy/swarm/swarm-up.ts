import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { GatewayError } from '../../../runtime/errors.js';
import type { ServicePhase, UpEvent } from '../docker/deploy-up.js';
import type { DockerConnection } from '../docker/docker-connection.js';
import { dockerMessage, dockerStatus } from '../docker/engine-error.js';
import { LABEL_PROJECT } from '../docker/labels.js';
import { interrupted } from '../docker/wait-ready.js';
import { serviceSpec, type StackObjectIds } from './service-spec.js';
import { ensureStackImages } from './stack-images.js';
import type { StackProject } from './stack-model.js';
import { STACK_NAMESPACE } from './stack-names.js';
import { listProjectObjects, listProjectServices } from './swarm-objects.js';
import { waitConverged } from './swarm-wait.js';

export type SwarmServiceOutcome = 'created' | 'updated' | 'unchanged';

export interface SwarmUpOptions {
  connection: DockerConnection;
  stack: StackProject;
  onEvent?: (event: UpEvent) => void;
  /** From the first change until every service has converged. */
  timeoutMs?: number | undefined;
  /** Stops waiting; what was sent to the swarm stays (swarm carries on with it). */
  signal?: AbortSignal | undefined;
}

export interface SwarmUpResult {
  services: Array<{ service: string; name: string; outcome: SwarmServiceOutcome; replicas: number }>;
  /** Services of the project no longer in stack.yaml (a removed server), removed. */
  removed: string[];
}

const DEFAULT_TIMEOUT_MS = 240_000;

/**
 * `up --target swarm` against a swarm manager: makes the project's swarm objects match
 * stack.yaml and changes nothing else. Images are built or pulled when missing; networks,
 * secrets and configs are created when missing (configs and secrets carry a content hash in
 * their name, so a change is a new object); a service is created when it does not exist,
 * updated (with the version index it was read at, a rolling update by its update_config) when
 * its spec hash label differs, left alone otherwise; services of removed servers are removed.
 * Then it waits until every service runs its replicas, healthy, and removes the secrets,
 * configs and networks no service (nor the previous spec a rollback returns to) names any more.
 *
 * There is no undo as in compose's `up`: swarm itself rolls an update back when its new tasks
 * fail (failure_action: rollback), and what was created stays for `status` and `logs` to explain.
 */
export async function deploySwarm(options: SwarmUpOptions): Promise<SwarmUpResult> {
  const { connection, stack, signal } = options;
  const { docker } = connection;
  const emit = options.onEvent ?? (() => {});
  const event = (service: string, phase: ServicePhase, detail?: string): void => emit({ service, phase, ...(detail === undefined ? {} : { detail }) });
  for (const service of stack.services) event(service.key, 'pending');

  await ensureStackImages(docker, stack, ({ services, phase, image }) => {
    if (phase === 'building' || phase === 'pulling') for (const service of services) event(service, phase, image);
  });
  if (signal?.aborted) throw interrupted();
  const started = Date.now();
  await ensureNetworks(docker, stack);
  const ids: StackObjectIds = { secrets: await ensureFileObjects(docker, stack, 'secrets'), configs: await ensureFileObjects(docker, stack, 'configs') };

  const existing = new Map((await listProjectServices(docker, stack.name)).map((service) => [service.name, service]));
  const result: SwarmUpResult = { services: [], removed: [] };
  const targets: Array<{ key: string; id: string; replicas: number }> = [];
  const changed = new Set<string>();
  for (const service of stack.services) {
    if (signal?.aborted) throw interrupted();
    const { spec, hash } = serviceSpec(stack, service, ids);
    const current = existing.get(service.name);
    let id: string;
    let outcome: SwarmServiceOutcome;
    if (current === undefined) {
      event(service.key, 'creating');
      id = (await engine(() => docker.createService(spec), `creating the service ${service.name}`)).id;
      outcome = 'created';
    } else if (current.labels['io.mcp-gateway.spec-hash'] === hash) {
      id = current.id;
      outcome = 'unchanged';
    } else {
      event(service.key, 'recreating', 'rolling update');
      // The version the spec was read at: an update from someone else in between fails instead of being overwritten.
      await engine(() => docker.getService(current.id).update({ _query: { version: current.version }, _body: spec }), `updating the service ${service.name}`);
      id = current.id;
      outcome = 'updated';
    }
    if (outcome !== 'unchanged') changed.add(service.key);
    targets.push({ key: service.key, id, replicas: service.replicas });
    result.services.push({ service: service.key, name: service.name, outcome, replicas: service.replicas });
  }
  const wanted = new Set(stack.services.map((service) => service.name));
  for (const [name, service] of existing) {
    if (wanted.has(name)) continue;
    await engine(
      () =>
        docker
          .getService(service.id)
          .remove()
          .catch((err: unknown) => (dockerStatus(err) === 404 ? undefined : Promise.reject(err))),
      `removing the service ${name}`,
    );
    result.removed.push(name);
    event(service.service, 'removed', name);
  }

  await waitConverged(docker, targets, {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    since: started,
    signal,
    onProgress: (key, running, desired) => {
      if (running < desired || changed.has(key)) event(key, 'waiting', `${running}/${desired} replicas`);
    },
    onReady: (key) => {
      const replicas = targets.find((target) => target.key === key)?.replicas ?? 0;
      event(key, changed.has(key) ? 'healthy' : 'unchanged', `${replicas}/${replicas} replicas`);
    },
  });
  await pruneUnused(docker, stack);
  return result;
}

/** The overlay networks the services join, created when missing; one of that name that is no swarm network is refused. */
async function ensureNetworks(docker: Docker, stack: StackProject): Promise<void> {
  const used = new Set(stack.services.flatMap((service) => service.networks));
  for (const key of used) {
    const network = stack.networks[key];
    if (network === undefined) continue;
    let found: { Scope?: string; Driver?: string } | undefined;
    try {
      found = (await docker.getNetwork(network.name).inspect()) as { Scope?: string; Driver?: string };
    } catch (err) {
      if (dockerStatus(err) !== 404) throw engineError(`inspecting the network ${network.name}`, err);
    }
    if (found !== undefined) {
      if (found.Scope !== 'swarm') {
        throw new GatewayError(
          'ERR_COMPOSE_INVALID',
          `the network ${network.name} exists with the ${found.Driver ?? '?'} driver, not as a swarm overlay network`,
          {
            hint: `a compose deployment of the same project made it: run \`mcp-gateway down\` first (or docker network rm ${network.name}), then up --target swarm again`,
          },
        );
      }
      continue;
    }
    await engine(
      () =>
        docker.createNetwork({
          Name: network.name,
          Driver: 'overlay',
          CheckDuplicate: true,
          Attachable: network.attachable,
          Internal: network.internal,
          Labels: { ...network.labels, [LABEL_PROJECT]: stack.name, [STACK_NAMESPACE]: stack.name },
        }),
      `creating the network ${network.name}`,
    );
  }
}

/** The secrets (or configs) the services name: existing ones by name, missing ones created from their file. Returns key -> ID. */
async function ensureFileObjects(docker: Docker, stack: StackProject, kind: 'secrets' | 'configs'): Promise<Map<string, string>> {
  const used = new Set(stack.services.flatMap((service) => service[kind].map((ref) => ref.source)));
  const existing = new Map((await listProjectObjects(docker, stack.name))[kind].map((object) => [object.name, object.id]));
  const ids = new Map<string, string>();
  for (const key of used) {
    const object = stack[kind][key];
    if (object === undefined) continue;
    const found = existing.get(object.name);
    if (found !== undefined) {
      ids.set(key, found);
      continue;
    }
    let data: Buffer;
    try {
      data = await readFile(object.path);
    } catch (err) {
      throw new GatewayError(
        'ERR_DEPLOY_NOT_RENDERED',
        `the ${kind === 'secrets' ? 'secret' : 'config'} file ${object.path} of ${key} cannot be read: ${(err as Error).message}`,
        {
          hint: 'render the deploy folder again (mcp-gateway up --target swarm renders first)',
        },
      );
    }
    const spec = { Name: object.name, Labels: { ...object.labels, [LABEL_PROJECT]: stack.name, [STACK_NAMESPACE]: stack.name }, Data: data.toString('base64') };
    const created = (await engine(
      () => (kind === 'secrets' ? docker.createSecret(spec) : docker.createConfig(spec)),
      `creating the ${kind === 'secrets' ? 'secret' : 'config'} ${object.name}`,
    )) as { id?: string; ID?: string };
    const id = created.id ?? created.ID;
    if (id === undefined) throw new TypeError(`the engine returned no ID for ${object.name}`);
    ids.set(key, id);
  }
  return ids;
}

/**
 * After convergence: secrets and configs of the project that no service names in its spec or
 * its previous spec are old versions (a changed file made a new one), and networks no service
 * joins belong to removed servers. Best effort: one still in use stays for the next up or down.
 */
async function pruneUnused(docker: Docker, stack: StackProject): Promise<void> {
  const services = await listProjectServices(docker, stack.name);
  const objects = await listProjectObjects(docker, stack.name);
  const secrets = new Set(services.flatMap((service) => service.references.secrets));
  const configs = new Set(services.flatMap((service) => service.references.configs));
  const networks = new Set([...services.flatMap((service) => service.networks), ...Object.values(stack.networks).map((network) => network.name)]);
  const quietly = (step: () => Promise<unknown>): Promise<unknown> => step().catch(() => undefined);
  for (const secret of objects.secrets) if (!secrets.has(secret.name)) await quietly(() => docker.getSecret(secret.id).remove());
  for (const config of objects.configs) if (!configs.has(config.name)) await quietly(() => docker.getConfig(config.id).remove());
  for (const network of objects.networks)
    if (!networks.has(network.name) && !networks.has(network.id)) await quietly(() => docker.getNetwork(network.id).remove());
}

async function engine<T>(step: () => Promise<T>, what: string): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw engineError(what, err);
  }
}

function engineError(what: string, err: unknown): GatewayError {
  const status = dockerStatus(err);
  if (status === 409) {
    return new GatewayError('ERR_DOCKER_NAME_CONFLICT', `${what} failed: ${dockerMessage(err)}`, {
      hint: 'something else changed it at the same time, or an object of that name belongs to another deployment: run up again, or remove it (docker service|secret|config|network rm NAME)',
      cause: err,
    });
  }
  return new GatewayError('ERR_DOCKER_START_FAILED', `${what} failed: ${dockerMessage(err)}`, {
    hint: 'the engine said why above; `docker service ls` and `docker stack ps PROJECT` on the manager show the swarm as it is',
    cause: err,
  });
}
