import type { SandboxPolicy } from './sandbox-policy.js';
import { SYSTEM_READ_PATHS } from './sandbox-policy.js';

/** A string literal of Apple's sandbox profile language (a Scheme dialect): quotes and backslashes escaped. */
function literal(path: string): string {
  return `"${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The sandbox-exec (Seatbelt) profile for one server on macOS. In SBPL the last matching rule
 * wins, so the profile allows by default, then denies writes everywhere and everything under
 * the hidden directories, then allows back the data directory, the temp directories and the
 * grants. Strict mode also denies reads outside the system directories and the server's program.
 */
export function seatbeltProfile(policy: SandboxPolicy, tempDirs: readonly string[]): string {
  const lines = [
    '(version 1)',
    '(allow default)',
    '(deny file-write* (subpath "/"))',
    '(allow file-write* (literal "/dev/null") (literal "/dev/tty") (regex #"^/dev/fd/"))',
  ];
  if (policy.mode === 'strict') {
    const readable = [...SYSTEM_READ_PATHS, ...policy.readable, ...tempDirs, '/dev', '/private/var/db/timezone'];
    lines.push('(deny file-read* (subpath "/"))');
    lines.push(`(allow file-read* (literal "/") ${readable.map((path) => `(subpath ${literal(path)})`).join(' ')})`);
  }
  if (policy.hidden.length > 0) lines.push(`(deny file-read* file-write* ${policy.hidden.map((path) => `(subpath ${literal(path)})`).join(' ')})`);
  lines.push(`(allow file-read* file-write* (subpath ${literal(policy.dataDir)}) ${tempDirs.map((path) => `(subpath ${literal(path)})`).join(' ')})`);
  for (const mount of policy.mounts) {
    lines.push(`(allow file-read*${mount.readOnly ? '' : ' file-write*'} (subpath ${literal(mount.hostPath)}))`);
  }
  if (!policy.network) lines.push('(deny network*)');
  return `${lines.join('\n')}\n`;
}
