import { createHash } from 'node:crypto';
import { GatewayError } from '../../../runtime/errors.js';

/**
 * What `docker stack deploy` labels every object of a stack with; `up --target swarm` sets it
 * too, so `docker stack ps|services|rm NAME` see what the CLI created and the other way round
 * (as compose's labels do for `docker compose`).
 */
export const STACK_NAMESPACE = 'com.docker.stack.namespace';

/** The swarm object `docker stack deploy -c stack.yaml PROJECT` makes of a key of stack.yaml: `<project>_<key>`. */
export function stackObjectName(project: string, key: string): string {
  return `${project}_${key}`;
}

/**
 * Swarm configs and secrets are immutable, so each key carries a hash of its content: a changed
 * file is a new object, which changes the service spec that names it, which rolls the service.
 * For secrets the hash is of a value anyone who may list secrets could also mount and read (a
 * manager's API is root on every node), so the 32 bits in the name tell nothing worth hiding.
 */
export function hashedKey(base: string, content: string): string {
  return `${base}-${createHash('sha256').update(content).digest('hex').slice(0, 8)}`;
}

/**
 * Swarmkit's limits on names (api/validation: 64 characters for configs and secrets; a service
 * name is a DNS label, 63), checked at render so a long deploy.project or server name fails
 * with the setting to change, not halfway through a deploy.
 */
const LIMITS = { service: 63, secret: 64, config: 64, network: 64, volume: 255 } as const;

export function checkStackName(kind: keyof typeof LIMITS, project: string, key: string, setting: string): void {
  const name = stackObjectName(project, key);
  if (name.length <= LIMITS[kind]) return;
  throw new GatewayError('ERR_CONFIG_INVALID', `the swarm ${kind} ${name} would be ${name.length} characters long; swarm allows ${LIMITS[kind]}`, {
    hint:
      setting === 'deploy.project'
        ? 'set a shorter deploy.project in mcp-gateway.yaml (the default is mcpgw-<folder name>), then render again'
        : `shorten ${setting} (or set a shorter deploy.project), then render again`,
  });
}
