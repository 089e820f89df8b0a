import type { BridgePlan } from '../deploy-plan.js';

/**
 * Names and labels of the Kubernetes objects, in one place: the workloads, their Services, the
 * NetworkPolicies' pod selectors and the kustomization's generators all refer to each other by
 * these, and a name spelt twice would drift.
 */

/** What a pod is, as `app.kubernetes.io/component`: the NetworkPolicies select by it. */
export type Component = 'auth' | 'router' | 'redis' | 'bridge';

export const PART_OF = 'mcp-gateway';

/** The Services the runtimes reach each other by (the compose service names, so MCPGW_AUTH_URL and the store URL stay the same). */
export const AUTH_SERVICE = 'auth';
export const ROUTER_SERVICE = 'router';
export const REDIS_SERVICE = 'redis';

/** The ConfigMap of auth and the router (the whole container config); each bridge has its own. */
export const GATEWAY_CONFIG_MAP = 'gateway-config';
/** The key (file name under /config) of every config ConfigMap. */
export const CONFIG_FILE_KEY = 'mcp-gateway.yaml';

/** Where the rendered files live inside the deploy folder: kustomize reads only files under its own folder. */
export const KUBERNETES_DIR = 'kubernetes';

/**
 * The namespace, from the project name. A compose project may contain `_` and end in `-`
 * (`mcpgw-my_gw`), which a namespace (an RFC 1123 label) may not: `_` becomes `-` and trailing
 * dashes go. The project name always starts with a letter or digit and has at most 63 characters.
 */
export function namespaceName(project: string): string {
  return project.replace(/_/g, '-').replace(/-+$/, '');
}

export function bridgeConfigMap(bridge: Pick<BridgePlan, 'service'>): string {
  return `${bridge.service}-config`;
}

/** The Secret kustomize generates from `secrets/<service>.env`. */
export function secretName(service: string): string {
  return `${service}-secrets`;
}

/** The label a workload's pods are selected by: its Service, its PDB and the NetworkPolicies use it. */
export const SERVICE_LABEL = 'io.mcp-gateway.service';

export function selectorLabels(service: string): Record<string, string> {
  return { [SERVICE_LABEL]: service };
}

/**
 * The labels of every object of one service: the recommended `app.kubernetes.io/*` ones, and the
 * `io.mcp-gateway.*` ones the compose deployment puts on its containers.
 */
export function serviceLabels(namespace: string, component: Component, service: string, server?: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': service,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': PART_OF,
    'io.mcp-gateway.project': namespace,
    [SERVICE_LABEL]: service,
    ...(server === undefined ? {} : { 'io.mcp-gateway.server': server }),
  };
}

/** The labels of objects that belong to the project as a whole (namespace, policies, generated ConfigMaps and Secrets). */
export function projectLabels(namespace: string): Record<string, string> {
  return { 'app.kubernetes.io/part-of': PART_OF, 'io.mcp-gateway.project': namespace };
}
