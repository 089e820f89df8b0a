import type { GatewayConfig } from '../../../runtime/config/schema.js';
import { isLoopbackHost } from '../../../runtime/config/loopback-host.js';
import { configText } from '../../../runtime/config/write-config.js';
import { containerConfig } from '../container-config.js';

/** Redis's port when a redis:// URL names none. */
const DEFAULT_REDIS_PORT = 6379;

/** A Redis the cluster reaches outside this deployment (a managed one, another namespace's): no Redis pod is rendered. */
export interface ExternalRedis {
  url: URL;
  port: number;
}

/**
 * The project's store names a Redis of its own when it is `type: redis` on a host that is not
 * loopback: loopback is the operator's Redis for `serve` on this machine, which a pod cannot
 * reach, so that case (and the embedded store) gets the deployment's Redis, as in compose.
 */
export function externalRedis(config: GatewayConfig): ExternalRedis | undefined {
  const { store } = config;
  if (store.type !== 'redis' || isLoopbackHost(store.url.hostname)) return undefined;
  return { url: store.url, port: store.url.port === '' ? DEFAULT_REDIS_PORT : Number(store.url.port) };
}

/**
 * The config the pods read: containerConfig()'s (store: the deployment's Redis at redis:6379,
 * the Service of that name) unless the project names an external Redis, whose URL and key
 * prefix are kept. Its password still reaches auth as MCPGW_REDIS_PASSWORD (.secrets/redis-password).
 */
export function kubernetesContainerConfig(config: GatewayConfig): GatewayConfig {
  return externalRedis(config) === undefined ? containerConfig(config) : config;
}

const HEADER = `# Rendered by \`mcp-gateway render --target kubernetes\` from the project's mcp-gateway.yaml for
# the pods (kustomization.yaml makes it a ConfigMap). No secrets: they are in kubernetes/secrets/,
# which kustomize turns into Secrets. Edit the project's config and render again; changes made
# here are overwritten.
`;

export function kubernetesConfigText(config: GatewayConfig): string {
  return HEADER + configText(config);
}
