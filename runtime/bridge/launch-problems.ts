import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import { findExecutable } from '../fs/executable-command.js';
import { buildChildEnv } from './child-env.js';

/** Why a stdio server cannot start on this host as configured; the bridge would fail each session. */
export type LaunchProblem = { kind: 'command-missing'; server: string; command: string } | { kind: 'cwd-missing'; server: string; cwd: string };

/**
 * The stdio servers of `config` whose command is not found (the PATH the bridge gives the child:
 * the gateway's own, or the server's env.PATH) or whose cwd is not a directory. Checked once at
 * start, so the operator reads it there instead of in the first failed session. A relative cwd
 * is taken from the project directory, as the sandbox takes it.
 */
export function findLaunchProblems(config: GatewayConfig, { projectDir, env = process.env }: { projectDir: string; env?: NodeJS.ProcessEnv }): LaunchProblem[] {
  const problems: LaunchProblem[] = [];
  for (const [server, entry] of Object.entries(config.servers)) {
    // Remote servers have no command; the built-in demo is this package's own node script.
    if (!('command' in entry)) continue;
    const cwd = resolve(projectDir, entry.cwd ?? '.');
    if (entry.cwd !== undefined && !isDirectory(cwd)) problems.push({ kind: 'cwd-missing', server, cwd });
    const path = buildChildEnv(env, entry.env)['PATH'] ?? '';
    if (findExecutable(entry.command, { path, cwd }) === undefined) problems.push({ kind: 'command-missing', server, command: entry.command });
  }
  return problems;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
