import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { GatewayConfig, ServerConfig } from './schema.js';
import { projectPaths } from './project-paths.js';
import { embeddedStoreFiles } from './store-files.js';

/** A mount with its path resolved (relative to the project directory) and symlinks followed. */
export interface ResolvedMount {
  hostPath: string;
  readOnly: boolean;
}

export interface MountIssue {
  path: (string | number)[];
  message: string;
}

/** True when `inner` is `outer` or lies below it. */
export function isWithin(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..');
}

/** The paths no server may be granted: the gateway's secrets, its store, its configuration. */
export function protectedPaths(projectDir: string, config?: Pick<GatewayConfig, 'store'>): string[] {
  const paths = projectPaths(projectDir);
  const list = [paths.secretsDir, paths.stateDir, paths.configFile];
  if (config?.store.type === 'embedded') {
    // SQLite keeps recent commits in the -wal file and the WAL index in -shm, beside the database.
    const { database, legacyStateFile } = embeddedStoreFiles(config.store, paths);
    list.push(database, `${database}-wal`, `${database}-shm`, ...(legacyStateFile === undefined ? [] : [legacyStateFile]));
  }
  return list.map(realOrSelf);
}

/** The path with symlinks followed, or as given when it does not exist (yet). */
export function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Checks every `servers.NAME.mounts` entry: it must exist, and what it resolves to (symlinks
 * followed) may neither lie inside nor contain `.secrets/`, the store or the config file (a grant
 * there would hand a server the signing keys, as the red team showed).
 */
export function checkServerMounts(config: GatewayConfig, projectDir: string): MountIssue[] {
  const issues: MountIssue[] = [];
  const guarded = protectedPaths(projectDir, config);
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('mounts' in server) || server.mounts === undefined) continue;
    server.mounts.forEach((mount, index) => {
      const at = ['servers', name, 'mounts', index, 'path'];
      const absolute = resolve(projectDir, mount.path);
      let real: string;
      try {
        real = realpathSync(absolute);
        statSync(real);
      } catch {
        issues.push({ path: at, message: `${absolute} does not exist (create it first, or remove the mount)` });
        return;
      }
      const inside = guarded.find((secret) => isWithin(real, secret));
      if (inside !== undefined) {
        issues.push({ path: at, message: `${absolute} lies inside ${inside}, which holds the gateway's own secrets or state; no server may be granted it` });
        return;
      }
      // A Docker bind mount of a parent would show the secrets inside the container.
      const around = guarded.find((secret) => isWithin(secret, real));
      if (around !== undefined)
        issues.push({
          path: at,
          message: `${absolute} contains ${around}, the gateway's own secrets or state; grant a directory that does not hold the gateway project`,
        });
    });
  }
  return issues;
}

/** The mounts of one server, resolved; call after the config passed `checkServerMounts`. */
export function resolveMounts(server: ServerConfig, projectDir: string): ResolvedMount[] {
  if (!('mounts' in server) || server.mounts === undefined) return [];
  return server.mounts.map((mount) => ({ hostPath: realOrSelf(resolve(projectDir, mount.path)), readOnly: mount.readOnly }));
}

/** Where a server keeps its own files: its working directory and HOME inside the sandbox, a named volume in Docker. */
export function serverDataDir(projectDir: string, name: string): string {
  return resolve(projectPaths(projectDir).stateDir, 'servers', name);
}
