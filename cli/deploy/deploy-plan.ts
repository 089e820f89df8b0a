import { basename } from 'node:path';
import { replicaCountsAboveOne, type GatewayConfig, type ServerConfig } from '../../runtime/config/schema.js';
import { resolveMounts, serverDataDir, type ResolvedMount } from '../../runtime/config/server-mounts.js';
import { GatewayError } from '../../runtime/errors.js';
import { bridgeContainerLimits, type ContainerLimits } from './container-limits.js';
import type { DeployTarget } from './deploy-target.js';

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
  /**
   * Compose key of the network the router (or Traefik) reaches this server on, which only it
   * shares: the bridge's own, or with `network: none` its relay's (internal: no route out).
   */
  network: string;
  /** Set exactly for `network: none`: the bridge has no network at all and is reached through this relay. */
  relay: RelayPlan | undefined;
  /** `servers.NAME.mounts`, resolved: bind-mounted at the same path. */
  mounts: ResolvedMount[];
  limits: ContainerLimits;
  /** `servers.NAME.replicas` (swarm and kubernetes targets; compose runs one). */
  replicas: number;
}

/**
 * `network: none`: the bridge container runs with Docker's `network_mode: none` (a loopback
 * interface only; an `internal` network would still reach the Docker host's addresses,
 * moby/libnetwork#1151) and listens on a Unix socket in a volume it shares only with a relay
 * container, which listens on the relay network under the bridge's DNS name and pipes bytes to
 * that socket (runtime/entrypoints/relay-runtime.ts). Routes are the same for every server.
 */
export interface RelayPlan {
  /** Compose service name of the relay; `relay-` cannot clash with a `bridge-NAME` of another server. */
  service: string;
  /** Compose key of the tmpfs volume holding the socket, mounted at `socketDir` in both containers. */
  volume: string;
  socketDir: string;
  /** The bridge's socket, inside `socketDir`. */
  socket: string;
}

/** What the deploy folder holds, decided once from the validated config. */
export interface DeployPlan {
  project: string;
  /** Compose's default network of the project, which Traefik's Docker provider watches. */
  network: string;
  router: GatewayConfig['deploy']['router'];
  /** Sorted by server name, so the rendered files do not depend on the order in the YAML. */
  bridges: BridgePlan[];
  /** Where it runs; compose unless render/up were given --target. */
  target: DeployTarget;
  /** `deploy.replicas`: replicas of the auth runtime and of the built-in router. */
  replicas: { auth: number; router: number };
  /** `deploy.drainPeriod` in ms: how long a bridge replica being replaced keeps serving its sessions. */
  drainMs: number;
}

/** Commands that need Python and uv in the image (`uvx mcp-server-time`, `python -m ...`). */
const PYTHON_COMMAND = /^(?:uvx?|python.*|pip.*)$/;

export function bridgeService(server: string): string {
  return `bridge-${server}`;
}

export function relayService(server: string): string {
  return `relay-${server}`;
}

/** Where the bridge of a `network: none` server listens; short (sun_path holds 107 bytes) and the same in both containers. */
export const SOCKET_DIR = '/run/mcpgw';

function relayPlan(server: string): RelayPlan {
  return { service: relayService(server), volume: `socket-${server}`, socketDir: SOCKET_DIR, socket: `${SOCKET_DIR}/${server}.sock` };
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
  const base = basename(projectDir)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-');
  return `mcpgw-${base}`.slice(0, 63);
}

export function planDeployment(config: GatewayConfig, projectDir: string, target: DeployTarget = 'compose'): DeployPlan {
  if (config.deploy.router === 'traefik' && config.deploy.email === undefined) {
    throw new GatewayError('ERR_CONFIG_INVALID', "deploy.email is required with router: traefik (Let's Encrypt needs an account e-mail)", {
      hint: 'set deploy.email in mcp-gateway.yaml (or run `mcp-gateway init --force --email you@example.com ...`), or use deploy.router: builtin behind your own TLS proxy',
    });
  }
  if (config.deploy.router === 'traefik' && config.publicUrl.protocol !== 'https:') {
    // Traefik serves HTTPS only; the issuer and every resource URL would name the wrong scheme.
    throw new GatewayError('ERR_CONFIG_INVALID', `publicUrl ${config.publicUrl.origin} is http, but router: traefik serves https`, {
      hint: 'set publicUrl to https://<your domain> (mcp-gateway init --force --domain ...), or use deploy.router: builtin for a plain-HTTP deployment',
    });
  }
  const aggregates = Object.entries(config.servers).filter(([, server]) => 'aggregate' in server);
  if (aggregates.length > 0) {
    // An aggregate's process starts its members itself, which a bridge container (one server's
    // runtime, no way into the other bridges) cannot do yet.
    throw new GatewayError(
      'ERR_CONFIG_INVALID',
      `servers.${aggregates[0]![0]}: aggregate endpoints run in \`mcp-gateway serve\` only; Docker deployments do not support them yet`,
      {
        hint: `remove it for the Docker deployment (mcp-gateway remove-server ${aggregates[0]![0]}), or run the gateway with \`mcp-gateway serve\``,
      },
    );
  }
  checkTarget(config, target);
  const project = projectName(config, projectDir);
  const bridges = Object.entries(config.servers)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([server, definition]): BridgePlan => {
      const sealed = 'network' in definition && definition.network === 'none';
      return {
        server,
        service: bridgeService(server),
        runtime: bridgeRuntime(definition),
        upstreamHeaders: 'url' in definition ? (definition.headers ?? []) : [],
        dataDir: serverDataDir(projectDir, server),
        dataVolume: `data-${server}`,
        // The relay's network has a key of its own: Docker cannot make an existing network internal,
        // so switching `network: none` on must not keep the bridge's (the next `up` removes it).
        network: sealed ? relayService(server) : bridgeService(server),
        relay: sealed ? relayPlan(server) : undefined,
        mounts: resolveMounts(definition, projectDir),
        limits: bridgeContainerLimits(definition),
        replicas: ('replicas' in definition ? definition.replicas : undefined) ?? 1,
      };
    });
  return {
    project,
    network: `${project}_default`,
    router: config.deploy.router,
    bridges,
    target,
    replicas: { auth: config.deploy.replicas?.auth ?? 1, router: config.deploy.replicas?.router ?? 1 },
    drainMs: config.deploy.drainPeriod,
  };
}

/**
 * What a target cannot run. Compose runs one container per service (`up` and `docker compose`
 * name them), so replicas need swarm or kubernetes; a swarm service cannot share a socket volume
 * with a relay task on the same node, so `network: none` is a compose (and kubernetes, by
 * NetworkPolicy) feature.
 */
function checkTarget(config: GatewayConfig, target: DeployTarget): void {
  if (target === 'compose') {
    const [many] = replicaCountsAboveOne(config);
    if (many !== undefined) {
      throw new GatewayError('ERR_CONFIG_INVALID', `${many.path.join('.')} is ${many.count}, but the compose target runs one container per service`, {
        hint: 'deploy to a swarm (mcp-gateway render --target swarm, then docker stack deploy) or to Kubernetes (mcp-gateway render --target kubernetes), or set it to 1',
      });
    }
    return;
  }
  if (target === 'swarm') {
    const sealed = Object.entries(config.servers).find(([, server]) => 'network' in server && server.network === 'none');
    if (sealed !== undefined) {
      throw new GatewayError(
        'ERR_CONFIG_INVALID',
        `servers.${sealed[0]}.network: none is not available on a swarm (its relay must share a socket volume with the bridge, which swarm tasks cannot)`,
        {
          hint: 'remove network: none for the swarm deployment, or deploy to compose (one host) or Kubernetes (a NetworkPolicy without egress)',
        },
      );
    }
  }
}
