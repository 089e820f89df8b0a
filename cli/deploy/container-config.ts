import { createHash } from 'node:crypto';
import { parseConfig } from '../../runtime/config/load-config.js';
import { configSchema, type GatewayConfig } from '../../runtime/config/schema.js';
import { configText } from '../../runtime/config/write-config.js';

/** Redis as the containers reach it: the compose service on the project network. */
export const CONTAINER_REDIS_URL = 'redis://redis:6379/0';
const DEFAULT_KEY_PREFIX = 'mcpgw:';

const HEADER = `# Rendered by \`mcp-gateway render\` from the project's mcp-gateway.yaml for the containers
# (store: the deployment's Redis). No secrets: they are in ../secrets/. Edit the project's
# config and render again; changes made here are overwritten.
`;

/**
 * The project's config as the runtimes in containers read it (/config/mcp-gateway.yaml): the
 * store is the deployment's Redis, whose password reaches auth as MCPGW_REDIS_PASSWORD. A Redis
 * key prefix already chosen for `serve` is kept. publicUrl and listen stay as they are.
 */
export function containerConfig(config: GatewayConfig): GatewayConfig {
  const keyPrefix = config.store.type === 'redis' ? config.store.keyPrefix : DEFAULT_KEY_PREFIX;
  return parseConfig({ ...configSchema.encode(config), store: { type: 'redis', url: CONTAINER_REDIS_URL, keyPrefix } }, 'the configuration for the containers');
}

export function containerConfigText(config: GatewayConfig): string {
  return HEADER + configText(config);
}

/** Short content hash for the `io.mcp-gateway.config-hash` labels. */
export function contentHash(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * The config a bridge container reads: the container config with its own server only, so a
 * server never sees another's entry (env values there may be API keys), and adding or removing
 * another server leaves this file, hence the bridge's config-hash label, as it was.
 */
export function bridgeContainerConfig(config: GatewayConfig, server: string): GatewayConfig {
  const own = config.servers[server];
  return { ...config, servers: own === undefined ? {} : { [server]: own } };
}
