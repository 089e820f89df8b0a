import { execFile } from 'node:child_process';
import { access, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { HostImageSpec } from './docker/host-image.js';

/**
 * What `mcp-gateway images build` makes each base image of, from this host: a recipe is either
 * the image's content or the reason it cannot be made here (a program is missing), said to the
 * user as it is.
 */
export type HostImageKind = 'node' | 'python' | 'redis' | 'traefik';
export type HostRecipe = { kind: HostImageKind; spec: HostImageSpec; contents: string } | { kind: HostImageKind; missing: string };

const run = promisify(execFile);
const BIN = '/usr/local/bin';
const PATH = `${BIN}:/usr/bin:/bin`;
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** A program on PATH, as `command -v` finds it; undefined when there is none. */
async function onPath(name: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', `command -v ${name}`]);
    const path = stdout.trim();
    return path.startsWith('/') ? path : undefined;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The shell and `env` every image gets: npx and package bins (`#!/usr/bin/env node`) need both, Redis's command runs through `sh -c`. */
async function shellBinaries(): Promise<Array<{ from: string; to: string }>> {
  const env = (await onPath('env')) ?? '/usr/bin/env';
  return [
    { from: '/bin/sh', to: '/bin/sh' },
    { from: env, to: '/usr/bin/env' },
  ];
}

const caBundle = async (): Promise<Array<{ from: string; to: string }>> => ((await exists(CA_BUNDLE)) ? [{ from: CA_BUNDLE, to: CA_BUNDLE }] : []);

/** The npm package of this host: beside the node binary (official tarballs, nvm) or wherever `npm` on PATH leads. */
async function npmPackage(nodeBinary: string): Promise<string | undefined> {
  const candidates = [join(dirname(dirname(nodeBinary)), 'lib', 'node_modules', 'npm')];
  const npm = await onPath('npm');
  if (npm !== undefined) {
    const cli = await realpath(npm).catch(() => npm);
    if (basename(cli) === 'npm-cli.js') candidates.unshift(dirname(dirname(cli)));
  }
  for (const dir of candidates) if (await exists(join(dir, 'bin', 'npx-cli.js'))) return dir;
  return undefined;
}

const wrapper = (script: string): string => `#!/bin/sh\nexec ${BIN}/node ${script} "$@"\n`;

/** node (the one running this CLI), npm and npx (wrappers around the host's npm package), sh, env; /tmp writable. */
export async function nodeRecipe(nodeBinary = process.execPath, nodeVersion = process.versions.node): Promise<HostRecipe> {
  const npm = await npmPackage(nodeBinary);
  if (npm === undefined) return { kind: 'node', missing: 'npm was not found (neither on PATH nor beside the node binary); install npm' };
  const npmTarget = '/usr/local/lib/node_modules/npm';
  return {
    kind: 'node',
    contents: `node v${nodeVersion}, npm, npx, sh (from ${nodeBinary}, ${npm})`,
    spec: {
      kind: 'node',
      repository: 'mcp-gateway-base-node',
      version: nodeVersion,
      binaries: [{ from: nodeBinary, to: `${BIN}/node` }, ...(await shellBinaries()), ...(await caBundle())],
      trees: [{ from: npm, to: npmTarget, skip: /^(?:docs|man)$/ }],
      files: [
        { to: `${BIN}/npm`, content: wrapper(`${npmTarget}/bin/npm-cli.js`), executable: true },
        { to: `${BIN}/npx`, content: wrapper(`${npmTarget}/bin/npx-cli.js`), executable: true },
        // npm and node look users up by uid only through these; the containers run as the rendering user.
        { to: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' },
      ],
      dirs: [{ path: '/tmp', mode: 0o1777 }],
      env: { PATH },
    },
  };
}

/** redis-server and redis-cli, with the sh and grep of the compose file's command and healthcheck. */
export async function redisRecipe(): Promise<HostRecipe> {
  const server = await onPath('redis-server');
  const cli = await onPath('redis-cli');
  const grep = await onPath('grep');
  if (server === undefined || cli === undefined)
    return { kind: 'redis', missing: 'redis-server and redis-cli are not installed (Debian/Ubuntu: apt-get install redis-server)' };
  if (grep === undefined) return { kind: 'redis', missing: 'grep is not on PATH' };
  const { stdout } = await run(server, ['--version']);
  const version = /v=(\S+)/.exec(stdout)?.[1] ?? 'host';
  return {
    kind: 'redis',
    contents: `redis-server ${version}, redis-cli, sh, grep (from ${server})`,
    spec: {
      kind: 'redis',
      repository: 'mcp-gateway-base-redis',
      version,
      // redis-server is a link to redis-check-rdb, which picks its role by argv[0]: the copy keeps the name.
      binaries: [
        { from: server, to: `${BIN}/redis-server` },
        { from: cli, to: `${BIN}/redis-cli` },
        { from: grep, to: '/bin/grep' },
        ...(await shellBinaries()),
      ],
      dirs: [
        { path: '/data', mode: 0o777 },
        { path: '/tmp', mode: 0o1777 },
      ],
      env: { PATH },
    },
  };
}

/**
 * python3 with its standard library, uv and uvx, plus node (the bridge runs in it); built only when
 * a server of the project runs with uvx, uv, python or pip.
 */
export async function pythonRecipe(nodeBinary = process.execPath): Promise<HostRecipe> {
  const uv = await onPath('uv');
  const uvx = await onPath('uvx');
  if (uv === undefined || uvx === undefined) return { kind: 'python', missing: 'uv and uvx are not installed (https://docs.astral.sh/uv/)' };
  const python = await onPath('python3');
  if (python === undefined) return { kind: 'python', missing: 'python3 is not installed' };
  let info: { executable: string; version: string; stdlib: string; platstdlib: string };
  try {
    const { stdout } = await run(python, [
      '-c',
      'import json,sys,sysconfig; p=sysconfig.get_paths(); print(json.dumps({"executable":sys.executable,"version":sys.version.split()[0],"stdlib":p["stdlib"],"platstdlib":p["platstdlib"]}))',
    ]);
    info = JSON.parse(stdout) as typeof info;
  } catch (err) {
    return { kind: 'python', missing: `python3 did not say where its standard library is (${err instanceof Error ? err.message : String(err)})` };
  }
  // pyenv and similar put a shell script on PATH: the interpreter is sys.executable.
  const executable = await realpath(info.executable);
  const trees = [{ from: info.stdlib, to: info.stdlib, skip: /(?:^|\/)(?:__pycache__|test|tests|idlelib|tkinter|turtledemo|site-packages)$/ }];
  if (info.platstdlib !== info.stdlib && (await stat(info.platstdlib).catch(() => undefined)))
    trees.push({ ...trees[0]!, from: info.platstdlib, to: info.platstdlib });
  return {
    kind: 'python',
    contents: `python ${info.version}, uv, uvx, node, sh (from ${executable}, ${uv})`,
    spec: {
      kind: 'python',
      repository: 'mcp-gateway-base-python',
      version: info.version,
      binaries: [
        // At its own path too: the interpreter finds its standard library relative to where it is.
        { from: executable, to: executable },
        { from: executable, to: `${BIN}/python3` },
        { from: uv, to: `${BIN}/uv` },
        { from: uvx, to: `${BIN}/uvx` },
        { from: nodeBinary, to: `${BIN}/node` },
        ...(await shellBinaries()),
        ...(await caBundle()),
      ],
      trees,
      links: [{ to: `${BIN}/python`, target: 'python3' }],
      dirs: [{ path: '/tmp', mode: 0o1777 }],
      env: { PATH },
    },
  };
}

/** A traefik binary on this host (a static Go binary), run as the official image runs it. */
export async function traefikRecipe(): Promise<HostRecipe> {
  const traefik = await onPath('traefik');
  if (traefik === undefined) return { kind: 'traefik', missing: 'no traefik binary on this host (https://github.com/traefik/traefik/releases)' };
  const { stdout } = await run(traefik, ['version']).catch(() => ({ stdout: '' }));
  const version = /Version:\s*(\S+)/.exec(stdout)?.[1] ?? 'host';
  return {
    kind: 'traefik',
    contents: `traefik ${version} (from ${traefik})`,
    spec: {
      kind: 'traefik',
      repository: 'mcp-gateway-base-traefik',
      version,
      binaries: [{ from: traefik, to: `${BIN}/traefik` }, ...(await caBundle())],
      dirs: [{ path: '/tmp', mode: 0o1777 }],
      env: { PATH },
      entrypoint: [`${BIN}/traefik`],
    },
  };
}
