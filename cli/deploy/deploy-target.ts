import { Option } from 'commander';
import { GatewayError } from '../../runtime/errors.js';

/**
 * What a deploy folder is for: `compose` (one Docker host, `docker compose up -d` or `mcp-gateway
 * up`), `swarm` (a Docker Swarm: `stack.yaml` for `docker stack deploy`, or `up --target swarm`)
 * or `kubernetes` (manifests under kubernetes/, kustomize-ready).
 */
export const DEPLOY_TARGETS = ['compose', 'swarm', 'kubernetes'] as const;
export type DeployTarget = (typeof DEPLOY_TARGETS)[number];

/** The targets `up` deploys itself; Kubernetes manifests are applied with kubectl (or Argo, Flux...). */
export const UP_TARGETS = ['compose', 'swarm'] as const satisfies readonly DeployTarget[];
export type UpTarget = (typeof UP_TARGETS)[number];

/** `--target` of render (every target) or up/down/status/logs (the ones we deploy). */
export function targetOption(targets: readonly DeployTarget[] = DEPLOY_TARGETS): Option {
  return new Option('--target <target>', `where the deployment runs: ${targets.join(', ')} (default: compose)`).choices(targets as string[]);
}

export function parseDeployTarget(text: string | undefined, targets: readonly DeployTarget[] = DEPLOY_TARGETS): DeployTarget {
  if (text === undefined) return 'compose';
  if ((targets as readonly string[]).includes(text)) return text as DeployTarget;
  throw new GatewayError('ERR_USAGE', `unknown --target ${text}`, { hint: `use one of ${targets.join(', ')}` });
}

/** What a target's renderer adds to the deploy folder, by path relative to it: plain files, and secret ones (written 0600). */
export interface TargetFiles {
  files: Map<string, string>;
  secretFiles: Map<string, string>;
}
