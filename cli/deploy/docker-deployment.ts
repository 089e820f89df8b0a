import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProjectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';

/** The deploy folder `render` writes when not told otherwise, and the one `up` always renders. */
export const DEFAULT_DEPLOY_DIR = 'deploy';

/**
 * The file that describes the deployment in the default deploy folder, and the target it was
 * rendered for: compose.yaml (compose) or stack.yaml (`render`/`up --target swarm`). `render`
 * replaces the folder as a whole, so only one of them is there.
 */
const RENDERED_FILES = [
  { file: 'compose.yaml', target: 'compose' },
  { file: 'stack.yaml', target: 'swarm' },
] as const;

/** Which target the project's deploy folder was last rendered for (compose or swarm), or undefined when it has none. */
export async function renderedTarget(paths: ProjectPaths): Promise<'compose' | 'swarm' | undefined> {
  for (const { file, target } of RENDERED_FILES) {
    try {
      await access(join(paths.dir, DEFAULT_DEPLOY_DIR, file));
      return target;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

/** Why the project has a rendered deploy folder (`render` or `up` ran), or undefined. */
export async function renderedDeployReason(paths: ProjectPaths): Promise<string | undefined> {
  const target = await renderedTarget(paths);
  const found = RENDERED_FILES.find((entry) => entry.target === target);
  return found === undefined ? undefined : `${DEFAULT_DEPLOY_DIR}/${found.file} was rendered`;
}

/** How the host reaches a Docker deployment, for admin commands and their hints. */
export interface DockerDeployment {
  /** How we know the project is one, for messages ("deploy/compose.yaml was rendered"). */
  reason: string;
  router: GatewayConfig['deploy']['router'];
  /** What to tell someone whose host cannot reach the deployment at its public URL. */
  reachHint: string;
}

/**
 * Whether the project's state (clients, grants) lives in a Docker deployment's Redis, which only
 * its auth runtime reaches (Redis sits on the Docker network and is not published on the host).
 * The rule: a rendered deploy folder (`render` wrote it, `up` always does), or a setting only the
 * Docker deployment reads: `deploy.email` (Let's Encrypt for Traefik) or `deploy.project`
 * (container and volume names). Not `deploy.domain` alone: `serve` reads it too, for subdomain
 * routing. status and doctor decide by this rule as well (cli/deployment-target.ts). A folder rendered
 * elsewhere with `render --out` without either setting is not seen; `--url` reaches it.
 */
export async function dockerDeployment(config: GatewayConfig, paths: ProjectPaths): Promise<DockerDeployment | undefined> {
  const set = (['email', 'project'] as const).filter((key) => config.deploy[key] !== undefined);
  const reason = (await renderedDeployReason(paths)) ?? (set.length > 0 ? `deploy.${set.join(', deploy.')} set in the config` : undefined);
  if (reason === undefined) return undefined;
  return { reason, router: config.deploy.router, reachHint: reachHint(config) };
}

/**
 * The builtin router publishes deploy.httpPort on deploy.bind and sends every path that is no MCP
 * endpoint (so /admin/) to the auth runtime whatever the Host header, so the published port works
 * from the Docker host. Traefik routes by host name and serves TLS for the public host only.
 */
function reachHint(config: GatewayConfig): string {
  const { bind, httpPort, httpsPort } = config.deploy;
  if (config.deploy.router === 'builtin') {
    return `pass --url http://${hostOf(bind)}:${httpPort} (the router's published port, deploy.httpPort on deploy.bind) to reach the deployment from this host; \`mcp-gateway status\` says whether it runs`;
  }
  const publicHost = config.publicUrl.hostname;
  return `Traefik routes by host name, so ${publicHost} must resolve from this host to the Traefik router (published on ${hostOf(bind)}:${httpsPort}; on the Docker host, e.g. an /etc/hosts line "127.0.0.1 ${publicHost}"), or pass --url with another address that reaches it; \`mcp-gateway status\` says whether it runs`;
}

/** A host address the published port answers at from this host: the wildcard binds answer on loopback. */
function hostOf(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1';
  if (bind === '::' || bind === '[::]') return '[::1]';
  return bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind;
}
