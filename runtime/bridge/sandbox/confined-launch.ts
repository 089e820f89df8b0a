import { accessSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { findExecutable } from '../../fs/executable-command.js';
import type { GatewayConfig, SandboxMode, ServerConfig, RemoteServerConfig } from '../../config/schema.js';
import { isWithin, realOrSelf, resolveMounts, serverDataDir } from '../../config/server-mounts.js';
import { GatewayError } from '../../errors.js';
import type { StdioLaunch } from '../child-process-session.js';
import { bubblewrapArgs } from './bubblewrap-args.js';
import type { SandboxAvailability } from './sandbox-probe.js';
import type { SandboxPolicy } from './sandbox-policy.js';
import { seatbeltProfile } from './seatbelt-profile.js';

export type StdioServerEntry = Exclude<ServerConfig, RemoteServerConfig>;

export interface ConfinedLaunchInput {
  name: string;
  server: StdioServerEntry;
  /** The launch as configured (command, args, env, cwd), before any sandbox. */
  launch: StdioLaunch;
  config: Pick<GatewayConfig, 'sandbox' | 'store'>;
  projectDir: string;
  sandbox: SandboxAvailability;
}

/** The mode that applies to one server: its own `sandbox`, else the top-level one. */
export function sandboxModeOf(server: StdioServerEntry, config: Pick<GatewayConfig, 'sandbox'>): SandboxMode {
  return ('sandbox' in server ? server.sandbox : undefined) ?? config.sandbox;
}

/**
 * Wraps a stdio server's launch in the host's OS sandbox (the mechanism is a kept tool, not
 * path checks of ours). bubblewrap and sandbox-exec are called directly rather than through
 * @anthropic-ai/sandbox-runtime: that package (a research preview whose API still moves) runs
 * every process behind a host-side HTTP/SOCKS proxy and a deny-list read model, while the
 * bridge needs a per-child mount layout (project hidden, own data directory as cwd and HOME)
 * and only "network on" or "none", which is one bwrap command line and no extra process.
 */
export function confinedLaunch(input: ConfinedLaunchInput): StdioLaunch {
  const { name, server, launch, config, sandbox } = input;
  const mode = sandboxModeOf(server, config);
  // The built-in demo is this package's own code, with no tool that touches files or the
  // network: it runs as is, so the zero-setup demo works on every host and writes nothing.
  if (mode === 'off' || 'builtin' in server) return launch;
  if (sandbox.kind === 'none') {
    throw new GatewayError('ERR_SANDBOX_UNAVAILABLE', `cannot start server ${name}: ${sandbox.reason}, and stdio servers run sandboxed`, {
      hint: `${sandbox.install}; or set servers.${name}.sandbox: off (or top-level sandbox: off) in mcp-gateway.yaml to run it unsandboxed, with access to the gateway's secrets, at your own risk`,
    });
  }
  const policy = sandboxPolicy(input, mode);
  mkdirSync(policy.dataDir, { recursive: true, mode: 0o700 });
  rmSync(policy.tempDir, { recursive: true, force: true });
  mkdirSync(policy.tempDir, { mode: 0o700 });
  if (sandbox.kind === 'bubblewrap') {
    return { command: sandbox.path, args: bubblewrapArgs(policy, launch.command, launch.args), env: launch.env, cwd: policy.dataDir };
  }
  const tempDirs = ['/private/tmp', '/private/var/folders'];
  return {
    command: sandbox.path,
    args: ['-p', seatbeltProfile(policy, tempDirs), launch.command, ...launch.args],
    env: { HOME: policy.dataDir, TMPDIR: policy.tempDir, ...launch.env },
    cwd: policy.cwd,
  };
}

function sandboxPolicy(input: ConfinedLaunchInput, mode: 'on' | 'strict'): SandboxPolicy {
  const { name, server, launch, config, projectDir } = input;
  const project = realOrSelf(resolve(projectDir));
  const hidden = [project];
  if (config.store.type === 'embedded') {
    const storeDir = realOrSelf(dirname(resolve(project, config.store.path)));
    if (!isWithin(storeDir, project)) hidden.push(storeDir);
  }
  const dataDir = serverDataDir(project, name);
  const mounts = resolveMounts(server, project);
  const configuredCwd = 'cwd' in server && server.cwd !== undefined ? realOrSelf(resolve(project, server.cwd)) : undefined;
  const visible = (path: string): boolean =>
    !hidden.some((dir) => isWithin(path, dir)) || isWithin(path, dataDir) || mounts.some((mount) => isWithin(path, mount.hostPath));
  if (configuredCwd !== undefined && !visible(configuredCwd)) {
    throw new GatewayError('ERR_CONFIG_INVALID', `servers.${name}.cwd: ${configuredCwd} lies in the project directory, which the sandbox hides`, {
      hint: `grant it: servers.${name}.mounts: [{ path: ${configuredCwd}, readOnly: true }], or move the server's files out of the project directory`,
    });
  }
  const cwd = configuredCwd ?? dataDir;
  const readable = mode === 'strict' ? programPaths(launch, cwd).filter(visible) : [];
  if (configuredCwd !== undefined && mode === 'strict') readable.push(configuredCwd);
  return { mode, hidden, dataDir, cwd, tempDir: join(dataDir, '.tmp'), mounts, readable, network: !('network' in server && server.network === 'none') };
}

/** Strict mode reads the server's own program: the command's directory (and its install prefix) and any script file among the arguments. */
function programPaths(launch: StdioLaunch, cwd: string): string[] {
  const paths = new Set<string>();
  const addFile = (file: string): void => {
    const dir = dirname(realOrSelf(file));
    paths.add(dir);
    // A bin/ directory's package lives beside it (node's lib/node_modules, a venv's lib/).
    if (basename(dir) === 'bin') paths.add(dirname(dir));
  };
  const command = findExecutable(launch.command, { path: launch.env['PATH'] ?? process.env['PATH'] ?? '', cwd });
  if (command !== undefined) addFile(command);
  for (const arg of launch.args) {
    if (arg.startsWith('-') || !(arg.includes('/') || arg.includes('.'))) continue;
    const file = isAbsolute(arg) ? arg : resolve(cwd, arg);
    if (exists(file)) addFile(file);
  }
  return [...paths].filter((path) => path !== '/');
}

function exists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}
