import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, rm } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, makeTempDir, removeTempDir } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';

/**
 * What `npm publish` would ship, installed the way a user installs it: `npm pack` of the built
 * package, `npm install <tarball>` into an empty prefix, then the installed bins. It catches what
 * the tests of the checkout cannot see: a file missing from `files`, a dependency that only the
 * dev tree provides, a bin that is not executable, a package name the CLI does not recognise.
 */

const PACK_TIMEOUT = 300_000;
const COMMAND_TIMEOUT = 120_000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface PackedFile {
  path: string;
}

/**
 * The environment of a user's shell: no npm_* variables from the `npm test` around us (they would
 * point npm at this checkout), nothing that configures the gateway, and the node running these
 * tests first on PATH, so the bins' `#!/usr/bin/env node` starts the same node.
 */
function userEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^npm_/i.test(key) || key === 'INIT_CWD' || key.startsWith('MCPGW_') || key.startsWith('MCP_GATEWAY_')) continue;
    env[key] = value;
  }
  env['PATH'] = [dirname(process.execPath), env['PATH'] ?? ''].join(delimiter);
  return env;
}

function run(file: string, args: string[], cwd: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(file: string, args: string[], cwd: string): Promise<Result> {
  const result = await run(file, args, cwd);
  expect(result.code, `${file} ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

describe('the packed tarball, installed into an empty prefix', () => {
  let work: string;
  let prefix: string;
  let packed: PackedFile[];
  let pkg: { name: string; version: string; bin: Record<string, string> };
  const bin = (name: string): string => join(prefix, 'node_modules', '.bin', name);

  beforeAll(async () => {
    pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    if (!existsSync(join(PACKAGE_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npm run build` (npm test does) first');
    work = await makeTempDir('mcpgw-packed-');
    prefix = join(work, 'prefix');
    // --ignore-scripts: `prepare` would build again; the suite runs after `npm run build`.
    const pack = await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], PACKAGE_ROOT);
    const [report] = JSON.parse(pack.stdout) as Array<{ filename: string; files: PackedFile[] }>;
    packed = report!.files;
    // --ignore-scripts: better-sqlite3's install script downloads a prebuilt binary from GitHub or
    // else compiles SQLite (minutes of CPU); neither is what this test is about. The checkout's
    // better-sqlite3 (the lockfile's version, built for the node running this suite) goes in its
    // place below. --prefer-offline: the packages npm ci fetched come from npm's cache.
    await ok(
      'npm',
      ['install', '--prefix', prefix, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', join(work, report!.filename)],
      work,
    );
    const sqlite = join(prefix, 'node_modules', 'better-sqlite3');
    await rm(sqlite, { recursive: true, force: true });
    await cp(join(PACKAGE_ROOT, 'node_modules', 'better-sqlite3'), sqlite, { recursive: true });
  }, PACK_TIMEOUT);

  afterAll(async () => {
    if (work) await removeTempDir(work);
  });

  it('ships bin/, dist/, templates/, the license and the readme, and no tests, sources or source maps', () => {
    const paths = packed.map((file) => file.path);
    expect(paths.filter((path) => !/^(?:bin|dist|templates)\/|^(?:LICENSE|README\.md|package\.json)$/.test(path))).toEqual([]);
    expect(paths.filter((path) => /\.map$|(?<!\.d)\.ts$/.test(path))).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'bin/mcp-gateway.js', 'dist/cli/main.js', 'templates/compose/base.yml']));
  });

  it('installs both bins, mcp-gateway and one named like the package, and each prints the version', async () => {
    expect(Object.keys(pkg.bin).sort()).toEqual(['mcp-gateway', pkg.name].sort());
    for (const name of Object.keys(pkg.bin)) expect((await ok(bin(name), ['--version'], work)).stdout.trim()).toBe(pkg.version);
  });

  it('runs as `npx <package name>` from the prefix without the registry', async () => {
    const result = await ok('npm', ['exec', '--offline', '--prefix', prefix, '--', pkg.name, '--version'], work);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('initialises a project, adds a server and renders the Docker deployment from the installed package', async () => {
    const dir = join(work, 'gw');
    await ok(
      bin(pkg.name),
      ['init', '--dir', dir, '--yes', '--provider', 'local', '--allowed-users', 'alice', '--domain', 'mcp.example.com', '--email', 'ops@example.com'],
      work,
    );
    await ok(bin('mcp-gateway'), ['add-server', 'time', '--dir', dir], work);
    await ok(bin(pkg.name), ['render', '--dir', dir], work);
    // The build context is copied from the installed package, whose dependencies npm hoisted beside it.
    const app = join(dir, 'deploy', 'build', 'app');
    expect(JSON.parse(await readFile(join(app, 'package.json'), 'utf8'))).toMatchObject({ name: pkg.name, version: pkg.version });
    for (const dependency of ['better-sqlite3', 'express', 'jose'])
      expect(existsSync(join(app, 'node_modules', dependency, 'package.json')), dependency).toBe(true);
    expect(await readFile(join(dir, 'deploy', 'compose.yaml'), 'utf8')).toContain('bridge-time');
  });

  it('serves the demo: /health answers 200, and SIGINT stops it cleanly', async () => {
    const port = await freePort();
    const serve = spawn(bin(pkg.name), ['serve', '--demo', '--listen', `127.0.0.1:${port}`], { cwd: work, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    serve.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    serve.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => serve.on('close', (code) => resolve(code)));
    try {
      let status = 0;
      for (const deadline = Date.now() + 30_000; status !== 200 && serve.exitCode === null && Date.now() < deadline; ) {
        status = await fetch(`http://127.0.0.1:${port}/health`).then(
          (res) => res.status,
          () => 0,
        );
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status, output).toBe(200);
    } finally {
      if (serve.exitCode === null) process.kill(serve.pid!, 'SIGINT');
      const timer = setTimeout(() => serve.kill('SIGKILL'), 10_000);
      expect(await exited, output).toBe(0);
      clearTimeout(timer);
    }
  }, 60_000);
});
