import type { ServerConfig } from '../../runtime/config/schema.js';

/**
 * What a bridge container may use unless `servers.NAME.limits` says otherwise (README, "Docker
 * deployment"). Sized for an npx- or uvx-launched server with a handful of live sessions: every
 * session is a child process (a node server is 50-100 MB and about 12 threads, npx doubles it),
 * and the tmpfs /tmp counts against the memory limit too. A runaway or hostile server hits these
 * instead of starving auth, Redis and the other servers of the host.
 */
export const BRIDGE_CONTAINER_DEFAULTS = {
  /** 1g */
  memoryBytes: 1024 ** 3,
  cpus: 1,
  /** Processes and threads; a fork bomb stops here. */
  pids: 512,
} as const;

/**
 * The relay of a `network: none` server (relay.yml): one node process copying bytes, plus the
 * node of its healthcheck while that runs (about 50 MB and 11 threads each).
 */
export const RELAY_CONTAINER_LIMITS: ContainerLimits = {
  /** 256m */
  memoryBytes: 256 * 1024 ** 2,
  cpus: 0.5,
  pids: 64,
};

/** The tmpfs holding a relayed bridge's socket: nothing else belongs there. */
export const SOCKET_VOLUME_BYTES = 1024 ** 2;

/** The tmpfs at /tmp of every bridge (the root filesystem is read-only): scratch space, not caches, which go to the data directory. */
export const BRIDGE_TMP_BYTES = 64 * 1024 ** 2;

export interface ContainerLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
}

/** One server's limits with the defaults filled in; remote servers take the defaults (their bridge is a proxy). */
export function bridgeContainerLimits(server: ServerConfig): ContainerLimits {
  const limits = 'url' in server || 'aggregate' in server ? {} : (server.limits ?? {});
  return {
    memoryBytes: limits.memory ?? BRIDGE_CONTAINER_DEFAULTS.memoryBytes,
    cpus: limits.cpus ?? BRIDGE_CONTAINER_DEFAULTS.cpus,
    pids: limits.pids ?? BRIDGE_CONTAINER_DEFAULTS.pids,
  };
}
