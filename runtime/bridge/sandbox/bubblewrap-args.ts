import { existsSync } from 'node:fs';
import { isWithin } from '../../config/server-mounts.js';
import { SYSTEM_READ_PATHS, type SandboxPolicy } from './sandbox-policy.js';

/**
 * bubblewrap's command line for one server. Order matters: bwrap applies the mount operations
 * in the order given, and a later one covers an earlier one. So the whole host first (read-only,
 * or only the system directories in strict mode), then the grants that lie
 * outside the hidden directories, then an empty tmpfs over each hidden directory, and last the
 * server's data directory and the grants inside a hidden directory, which stay visible on top.
 */
export function bubblewrapArgs(policy: SandboxPolicy, command: string, args: readonly string[]): string[] {
  const out: string[] = [
    // The sandbox dies with the gateway: a kill -9 of serve leaves no server running (PR_SET_PDEATHSIG).
    '--die-with-parent',
    // Its own pid namespace: /proc shows only the server's processes, never /proc/<gateway pid>/environ or its fds.
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
  ];
  if (!policy.network) out.push('--unshare-net');
  if (policy.mode === 'on') {
    out.push('--ro-bind', '/', '/');
  } else {
    for (const path of SYSTEM_READ_PATHS) if (existsSync(path)) out.push('--ro-bind', path, path);
    for (const path of policy.readable) out.push('--ro-bind', path, path);
  }
  // No --new-session: the child is already a session leader without a terminal (detached spawn),
  // so TIOCSTI has nothing to inject into, and staying in the bwrap process group lets the
  // bridge's group SIGTERM reach the server itself for a graceful stop.
  // /tmp stays the host's, read-only like the rest: a fresh tmpfs there would also hide any
  // server program, checkout or grant that lives under /tmp (CI clones do). Temp files go to the
  // server's own TMPDIR, inside its data directory.
  out.push('--dev', '/dev', '--proc', '/proc');
  const insideHidden = (path: string): boolean => policy.hidden.some((hidden) => isWithin(path, hidden));
  const bindMount = (mount: { hostPath: string; readOnly: boolean }): void => {
    out.push(mount.readOnly ? '--ro-bind' : '--bind', mount.hostPath, mount.hostPath);
  };
  for (const mount of policy.mounts) if (!insideHidden(mount.hostPath)) bindMount(mount);
  for (const hidden of policy.hidden) out.push('--tmpfs', hidden);
  out.push('--bind', policy.dataDir, policy.dataDir);
  for (const mount of policy.mounts) if (insideHidden(mount.hostPath)) bindMount(mount);
  // The empty tmpfs over a hidden directory would otherwise take writes that look like they
  // reached mcp-gateway.yaml; read-only, it refuses them (the binds inside stay writable).
  for (const hidden of policy.hidden) out.push('--remount-ro', hidden);
  out.push('--chdir', policy.cwd, '--setenv', 'HOME', policy.dataDir, '--setenv', 'TMPDIR', policy.tempDir);
  out.push('--', command, ...args);
  return out;
}
