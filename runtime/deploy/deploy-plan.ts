import { basename } from 'node:path';
import type { GatewayConfig, ServerConfig } from '../config/schema.js';
import { resolveMounts, serverDataDir, type ResolvedMount } from '../config/server-mounts.js';
import { GatewayError } from '../errors.js';
import { bridgeContainerLimits, type ContainerLimits } from './container-limits.js';

/** Which runtime image a bridge runs in. */
export type RuntimeKind = 'node' | 'python';

export interface BridgePlan {
  server: string;
  /** Compose service name = DNS name on the project network. */
  service: string;
  runtime: RuntimeKind;
  /** Names of the static headers a remote server gets (values are secrets). */
  upstreamHeaders: readonly string[];
  /** `serverDataDir` on the host; the data volume is mounted at this same path in the container (its working directory and HOME). */
  dataDir: string;
  /** Compose key of the server's data volume. */
  dataVolume: string;
  /** Compose key of the bridge's own network, which only the router (or Traefik) shares. */
  network: string;
  /** False for `network: none`: that network is `internal` (no route out). */
  egress: boolean;
  /** `servers.NAME.mounts`, resolved: bind-mounted at the same path. */
  mounts: ResolvedMount[];
  limits: ContainerLimits;
}

/** What the deploy folder holds, decided once from the validated config. */
export interface DeployPlan {
  project: string;
  /** Compose's default network of the project, which Traefik's Docker provider watches. */
  network: string;
  router: GatewayConfig['deploy']['router'];
  /** Sorted by server name, so the rendered files do not depend on the order in the YAML. */
  bridges: BridgePlan[];
}

/** Commands that need Python and uv in the image (`uvx mcp-server-time`, `python -m ...`). */
const PYTHON_COMMAND = /^(?:uvx?|python.*|pip.*)$/;

export function bridgeService(server: string): string {
  return `bridge-${server}`;
}

/** Remote servers run in the node runtime as a proxy; stdio servers by their command. */
export function bridgeRuntime(server: ServerConfig): RuntimeKind {
  return 'command' in server && PYTHON_COMMAND.test(basename(server.command)) ? 'python' : 'node';
}

/**
 * The contract's rule: `deploy.project`, else `mcpgw-<basename of the project dir>` lowercased
 * with every character compose refuses in a project name replaced by `-`.
 */
export function projectName(config: Pick<GatewayConfig, 'deploy'>, projectDir: string): string {
  if (config.deploy.project !== undefined) return config.deploy.project;
  const base = basename(projectDir).toLowerCase().replace(/[^a-z0-9_-]/g, '-');
  return `mcpgw-${base}`.slice(0, 63);
}

export function planDeployment(config: GatewayConfig, projectDir: string): DeployPlan {
  if (config.deploy.router === 'traefik' && config.deploy.email === undefined) {
    throw new GatewayError('ERR_CONFIG_INVALID', "deploy.email is required with router: traefik (Let's Encrypt needs an account e-mail)", {
      hint: 'set deploy.email in mcp-gateway.yaml (or run `mcp-gateway init --force --email you@example.com ...`), or use deploy.router: builtin behind your own TLS proxy',
    });
  }
  if (config.deploy.router === 'traefik' && new URL(config.publicUrl).protocol !== 'https:') {
    // Traefik serves HTTPS only; the issuer and every resource URL would name the wrong scheme.
    throw new GatewayError('ERR_CONFIG_INVALID', `publicUrl ${config.publicUrl} is http, but router: traefik serves https`, {
      hint: 'set publicUrl to https://<your domain> (mcp-gateway init --force --domain ...), or use deploy.router: builtin for a plain-HTTP deployment',
    });
  }
  const project = projectName(config, projectDir);
  const bridges = Object.entries(config.servers)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([server, definition]): BridgePlan => {
      const egress = !('network' in definition && definition.network === 'none');
      return {
        server,
        service: bridgeService(server),
        runtime: bridgeRuntime(definition),
        upstreamHeaders: 'url' in definition ? (definition.headers ?? []) : [],
        dataDir: serverDataDir(projectDir, server),
        dataVolume: `data-${server}`,
        // A new key when egress is switched off: Docker cannot make an existing network internal,
        // so a kept network would keep its route out (the old one is removed by the next `up`).
        network: egress ? bridgeService(server) : `${bridgeService(server)}-internal`,
        egress,
        mounts: resolveMounts(definition, projectDir),
        limits: bridgeContainerLimits(definition),
      };
    });
  return { project, network: `${project}_default`, router: config.deploy.router, bridges };
}
