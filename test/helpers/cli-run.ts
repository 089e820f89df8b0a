import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: tests run the built CLI exactly as a user would, from there. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/mcp-gateway.js ...args` as a child process (stdin is a pipe, so never a TTY).
 * Variables that change the CLI's behaviour are removed from the inherited environment.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string> /** Another copy of the built package (default: this one). */; packageRoot?: string } = {},
): Promise<CliResult> {
  const env = { ...process.env };
  delete env['MCP_GATEWAY_GITHUB_CLIENT_SECRET'];
  delete env['MCP_GATEWAY_OIDC_CLIENT_SECRET'];
  delete env['MCP_GATEWAY_DEBUG'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/mcp-gateway.js', ...args], {
      cwd: options.packageRoot ?? PACKAGE_ROOT,
      env: { ...env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh directory under the OS temp dir; remove it with `removeTempDir`. */
export function makeTempDir(prefix = 'mcp-gateway-cli-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** A stack frame line, which no user-facing error may print. */
export const STACK_FRAME = /^\s+at .+\(?.*:\d+:\d+\)?$/m;

/** Flags for a non-interactive init that needs no GitHub app. */
export function localInitArgs(dir: string, publicUrl = 'http://127.0.0.1:8080'): string[] {
  return ['init', '--dir', dir, '--yes', '--provider', 'local', '--public-url', publicUrl, '--allowed-users', 'alice'];
}

/** Flags for a non-interactive init with a GitHub provider (the stand-in at `githubUrl`, or an address nobody answers). */
export function githubInitArgs(dir: string, publicUrl: string, githubUrl: string, allowedUsers = 'alice'): string[] {
  return [
    'init',
    '--dir',
    dir,
    '--yes',
    '--public-url',
    publicUrl,
    '--provider',
    'github',
    '--github-url',
    githubUrl,
    '--github-client-id',
    'test-client-id',
    '--github-client-secret',
    'test-client-secret',
    '--allowed-users',
    allowedUsers,
  ];
}
