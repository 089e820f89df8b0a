import { spawnSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { findExecutable } from '../../fs/executable-command.js';

/** Which OS sandbox this host can set up, or why none. */
export type SandboxAvailability =
  | { kind: 'bubblewrap'; path: string }
  | { kind: 'sandbox-exec'; path: string }
  | { kind: 'none'; reason: string; install: string };

const PROBE_TIMEOUT_MS = 5_000;

/**
 * Finds the sandbox and tries it once for real: bwrap being installed is not enough, since
 * containers and hardened kernels often forbid the user namespaces it needs
 * (kernel.unprivileged_userns_clone=0, apparmor_restrict_unprivileged_userns=1).
 */
export function probeSandbox(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): SandboxAvailability {
  const path = env['PATH'] ?? '';
  if (platform === 'darwin') {
    const exec = findExecutable('sandbox-exec', { path: `${path}${delimiter}/usr/bin` });
    if (exec === undefined)
      return { kind: 'none', reason: 'sandbox-exec was not found', install: 'sandbox-exec ships with macOS in /usr/bin; check that /usr/bin is on PATH' };
    const trial = spawnSync(exec, ['-p', '(version 1)(allow default)', '/usr/bin/true'], { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' });
    if (trial.status !== 0)
      return {
        kind: 'none',
        reason: `sandbox-exec did not run a test command (${firstLine(trial.stderr) || `exit ${trial.status}`})`,
        install: 'run the gateway as a normal macOS user, outside another sandbox',
      };
    return { kind: 'sandbox-exec', path: exec };
  }
  if (platform !== 'linux')
    return {
      kind: 'none',
      reason: `no sandbox is supported on ${platform}`,
      install: 'run the gateway on Linux (bubblewrap) or macOS (sandbox-exec), or in Docker with `mcp-gateway up`',
    };
  const bwrap = findExecutable('bwrap', { path });
  if (bwrap === undefined)
    return {
      kind: 'none',
      reason: 'bubblewrap (bwrap) is not installed',
      install: 'install it: apt-get install bubblewrap (Debian/Ubuntu), dnf install bubblewrap (Fedora), apk add bubblewrap (Alpine)',
    };
  const trial = spawnSync(bwrap, ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--die-with-parent', '--', 'true'], {
    timeout: PROBE_TIMEOUT_MS,
    encoding: 'utf8',
  });
  if (trial.status !== 0) {
    return {
      kind: 'none',
      reason: `bubblewrap cannot create a sandbox here (${firstLine(trial.stderr) || `exit ${trial.status ?? trial.signal}`})`,
      install:
        'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04 kernel.apparmor_restrict_unprivileged_userns=0), or run the gateway outside a container that forbids them',
    };
  }
  return { kind: 'bubblewrap', path: bwrap };
}

function firstLine(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n')[0]?.slice(0, 200) ?? '';
}

let cached: SandboxAvailability | undefined;

/** The probe's answer for this process (the host does not change while the gateway runs). */
export function hostSandbox(): SandboxAvailability {
  cached ??= probeSandbox();
  return cached;
}
