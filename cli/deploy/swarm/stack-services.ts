import type { BridgePlan, DeployPlan } from '../deploy-plan.js';
import { LABEL_PROJECT } from '../docker/labels.js';
import { SECRETS_MOUNT, type StackSecret } from './stack-secrets.js';

/** A service, network or volume definition as YAML holds it. */
export type YamlMap = Record<string, unknown>;

/** Where every runtime reads its config (MCPGW_CONFIG in templates/compose/): a swarm config is mounted at this file. */
export const CONFIG_TARGET = '/config/mcp-gateway.yaml';

/** Between two tasks of a rolling update: long enough for the router to see the new one in DNS (tasks.<service>). */
const UPDATE_DELAY = '5s';
/** How long a new task must keep running after its start before the next one is replaced; a failure within it rolls back. */
const UPDATE_MONITOR = '15s';

/**
 * What to do with each key of a compose service (templates/compose/*.yml, rendered) on a swarm.
 * A key not listed fails the render (a TypeError: a bug here, caught by the tests), so a field
 * added to the compose templates cannot be dropped silently from stack.yaml.
 *   keep:    the same meaning in `docker stack deploy` and `up --target swarm`.
 *   drop:    replaced by something swarm-specific (see swarmService), or ignored by swarm.
 */
const COMPOSE_KEYS: Readonly<Record<string, 'keep' | 'drop'>> = {
  image: 'keep',
  command: 'keep',
  user: 'keep',
  init: 'keep',
  read_only: 'keep',
  cap_drop: 'keep',
  working_dir: 'keep',
  environment: 'keep',
  healthcheck: 'keep',
  labels: 'keep',
  volumes: 'keep',
  networks: 'keep',
  // stack deploy ignores build: the images are built beforehand (x-build, docs/swarm.md).
  build: 'drop',
  // Docker secrets (/run/secrets), which swarm moves to the node a task runs on; env files stay on this host.
  env_file: 'drop',
  // deploy.restart_policy.
  restart: 'drop',
  // Swarm starts services in no order: each runtime retries what it needs, and its healthcheck's start_period covers that.
  depends_on: 'drop',
  // deploy.resources.limits (swarm ignores the container-level keys).
  mem_limit: 'drop',
  cpus: 'drop',
  pids_limit: 'drop',
  // Swarm services have no security_opt (stack deploy ignores it; the service API of engines up to
  // 27 has no no-new-privileges): the bridges keep a read-only root, no capabilities and a non-root
  // user, which leave a setuid binary nothing to gain but the user's own rights (docs/swarm.md).
  security_opt: 'drop',
  // Recomputed: host mode, no host_ip (swarm publishes on every address of the node).
  ports: 'drop',
};

export interface SwarmServiceOptions {
  plan: DeployPlan;
  /** The service's Docker secrets, mounted as /run/secrets/<variable in lowercase>. */
  secrets: readonly StackSecret[];
  /** Key of the swarm config mounted at /config/mcp-gateway.yaml, if the service reads one. */
  config?: string | undefined;
  /** `uid:gid` of the runtime containers, who own their secret files (0400). */
  user: string;
}

/** 0400 and 0444 as YAML numbers: the compose spec's `mode` is a number, and 1.1 and 1.2 readers disagree about `0400`. */
const OWNER_READ = 0o400;
const ALL_READ = 0o444;

/**
 * One runtime's compose service as a swarm service: what compose does the same way stays,
 * secrets and the config come from Docker secrets and configs instead of files on this host,
 * logs go to the service log (`docker service logs`) instead of a host folder no other node has,
 * and `deploy:` says how many, how to roll and how to restart. Every service resolves by DNS
 * round-robin (`endpoint_mode: dnsrr`): a VIP needs IPVS, which not every node has, and the
 * router picks bridge replicas itself from `tasks.bridge-NAME`.
 */
export function swarmService(service: string, compose: YamlMap, options: SwarmServiceOptions): YamlMap {
  const kept: YamlMap = {};
  for (const [key, value] of Object.entries(compose)) {
    const rule = COMPOSE_KEYS[key];
    if (rule === undefined) throw new TypeError(`compose service ${service}: ${key} has no swarm translation (cli/deploy/swarm/stack-services.ts)`);
    if (rule === 'keep') kept[key] = value;
  }
  const environment = { ...(kept['environment'] as Record<string, string> | undefined) };
  // Logs go to stdout only: a bind of the project's logs/ exists on this host alone.
  delete environment['MCPGW_LOG_DIR'];
  if (Object.keys(environment).length > 0) kept['environment'] = environment;
  else delete kept['environment'];
  kept['labels'] = serviceLabels(compose);
  const volumes = ((kept['volumes'] as YamlMap[] | undefined) ?? []).filter((mount) => mount['target'] !== '/config' && mount['target'] !== '/logs');
  if (volumes.length > 0) kept['volumes'] = volumes;
  else delete kept['volumes'];
  const [uid, gid = uid] = options.user.split(':');
  const result: YamlMap = { ...kept, networks: (kept['networks'] as string[] | undefined) ?? ['default'] };
  if (options.secrets.length > 0) {
    result['secrets'] = options.secrets.map((secret) =>
      // Redis's image starts as root and reads it before it drops to its own user: the default owner and mode.
      service === 'redis' ? { source: secret.key, target: secret.target } : { source: secret.key, target: secret.target, uid, gid, mode: OWNER_READ },
    );
  }
  if (options.config !== undefined) result['configs'] = [{ source: options.config, target: CONFIG_TARGET, mode: ALL_READ }];
  return result;
}

/** `deploy:` of one service. */
export function deployBlock(options: {
  replicas: number;
  labels: Record<string, string>;
  /**
   * start-first (a new task is healthy before the old one stops) unless two tasks cannot run
   * side by side: Redis (one data volume) and anything publishing a host-mode port.
   */
  order: 'start-first' | 'stop-first';
  limits?: YamlMap | undefined;
  placement?: YamlMap | undefined;
}): YamlMap {
  return {
    endpoint_mode: 'dnsrr',
    replicas: options.replicas,
    labels: options.labels,
    update_config: { parallelism: 1, delay: UPDATE_DELAY, order: options.order, failure_action: 'rollback', monitor: UPDATE_MONITOR },
    rollback_config: { parallelism: 1, order: options.order },
    restart_policy: { condition: 'any', delay: '5s' },
    ...(options.limits === undefined ? {} : { resources: { limits: options.limits } }),
    ...(options.placement === undefined ? {} : { placement: options.placement }),
  };
}

/**
 * Redis reads its password from the secret file before the compose command runs: the same
 * variable the compose service gets from secrets/redis.env. `read` is a shell builtin (an image
 * built FROM scratch around redis-server has a shell, but no cat).
 */
export function readSecretsFirst(script: unknown, secrets: readonly StackSecret[], where: string): string {
  if (typeof script !== 'string') throw new TypeError(`${where}: expected a shell script`);
  const reads = secrets.map((secret) => `read -r ${secret.variable} < ${SECRETS_MOUNT}/${secret.target};`).join(' ');
  return `${reads} ${script}`;
}

/** The limits of a bridge as swarm's deploy.resources.limits spells them (strings for cpus and memory). */
export function bridgeLimits(bridge: BridgePlan): YamlMap {
  const { memoryBytes, cpus, pids } = bridge.limits;
  const memory =
    memoryBytes % 1024 ** 3 === 0 ? `${memoryBytes / 1024 ** 3}G` : memoryBytes % 1024 ** 2 === 0 ? `${memoryBytes / 1024 ** 2}M` : `${memoryBytes}`;
  return { cpus: String(cpus), memory, pids };
}

/**
 * The labels of a service, container and service alike: the contract's (docs/docker-contract.md),
 * but for the config hash: the configs' names carry their hash, so a changed config already changes the spec.
 */
export function serviceLabels(compose: YamlMap): Record<string, string> {
  const labels = { ...(compose['labels'] as Record<string, string>) };
  delete labels['io.mcp-gateway.config-hash'];
  if (labels[LABEL_PROJECT] === undefined) throw new TypeError('a compose service without the project label');
  return labels;
}

/** A duration as compose writes one: whole seconds when it is, else milliseconds. */
export function composeDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
