import type { ResolvedMount } from '../../config/server-mounts.js';

/**
 * What one stdio server may touch, independent of the mechanism that enforces it (bubblewrap
 * on Linux, sandbox-exec on macOS). Paths are absolute and symlink-free.
 */
export interface SandboxPolicy {
  /** `on`: everything readable but `hidden`; `strict`: only the system directories and `readable`. */
  mode: 'on' | 'strict';
  /** Directories that do not exist for the server: the project directory (config, `.secrets/`, the store, other servers' data), a store outside it. */
  hidden: string[];
  /** The server's own directory: writable, its HOME, and its working directory unless `cwd` says otherwise. */
  dataDir: string;
  /** Working directory inside the sandbox. */
  cwd: string;
  /** TMPDIR: a directory inside `dataDir`, emptied when the server's launch is set up (serve's start, a reload). */
  tempDir: string;
  /** Operator grants (`servers.NAME.mounts`). */
  mounts: ResolvedMount[];
  /** Extra read-only paths in strict mode: the server's own program and its directory. */
  readable: string[];
  /** False for `network: none`: no interface but an unconnected loopback. */
  network: boolean;
}

/**
 * System directories a strict-mode server may read: interpreters, shared libraries, CA bundles
 * and resolver config. Only those that exist are bound.
 */
export const SYSTEM_READ_PATHS = [
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
  '/System',
  '/Library',
  '/private/etc',
  '/opt/homebrew',
];
