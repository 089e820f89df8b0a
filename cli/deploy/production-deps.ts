import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { GatewayError } from '../../runtime/errors.js';
import { PACKAGE_NAME } from '../package-info.js';
import { listFiles } from './copy-tree.js';
import { mapLimited } from '../map-limited.js';

interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** One installed package of the production tree: where it is, and where it goes under app/. */
export interface ProductionPackage {
  dir: string;
  /** Relative to app/, e.g. `node_modules/express` or `node_modules/a/node_modules/b`. */
  target: string;
}

async function readPackageJson(dir: string): Promise<PackageJson | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Node's lookup: `<dir>/node_modules/<name>` from the requiring package up to the root, skipping node_modules/node_modules. */
async function resolvePackage(name: string, fromDir: string): Promise<string | undefined> {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (!dir.endsWith(`${sep}node_modules`)) {
      const candidate = join(dir, 'node_modules', name);
      try {
        if ((await stat(join(candidate, 'package.json'))).isFile()) return candidate;
      } catch {
        // not installed at this level; keep walking up
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Where a package lands under app/: its path relative to the package root when it is installed
 * inside it (npm ci, npm install -g), else relative to the folder whose node_modules it was
 * hoisted into (npx caches), so Node's lookup finds it from app/ the same way.
 */
function targetFor(packageRoot: string, dir: string): string {
  const inside = relative(packageRoot, dir);
  if (!inside.startsWith('..')) return inside;
  for (let ancestor = dirname(packageRoot); ; ancestor = dirname(ancestor)) {
    if (dir.startsWith(join(ancestor, 'node_modules') + sep)) return relative(ancestor, dir);
    if (dirname(ancestor) === ancestor) return inside;
  }
}

/**
 * The production dependency tree of the package at `packageRoot`, found by walking package.json
 * `dependencies` (plus installed optional and peer dependencies) with Node's resolution, so it
 * needs no npm and never reaches a dev dependency. Sorted by target for a stable build context.
 */
export async function productionPackages(packageRoot: string): Promise<ProductionPackage[]> {
  const found = new Map<string, ProductionPackage>();
  const seen = new Set<string>();
  const queue: Array<{ dir: string; pkg: PackageJson }> = [];
  const root = await readPackageJson(packageRoot);
  if (root === undefined) throw new TypeError(`no package.json in ${packageRoot}`);
  queue.push({ dir: packageRoot, pkg: root });
  while (queue.length > 0) {
    const { dir, pkg } = queue.shift()!;
    const required = Object.keys(pkg.dependencies ?? {});
    const optional = [...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
    for (const [name, isRequired] of [...required.map((n) => [n, true] as const), ...optional.map((n) => [n, false] as const)]) {
      const resolved = await resolvePackage(name, dir);
      if (resolved === undefined) {
        if (!isRequired) continue;
        throw new GatewayError('ERR_CONFIG_INVALID', `the installed mcp-gateway is incomplete: ${name} (needed by ${pkg.name ?? dir}) is not installed`, {
          hint: `reinstall it (npm ci in a clone, or npm install -g ${PACKAGE_NAME}), then render again`,
        });
      }
      if (seen.has(resolved)) continue;
      seen.add(resolved);
      const target = targetFor(packageRoot, resolved);
      const clash = found.get(target);
      if (clash !== undefined) throw new TypeError(`two packages would be copied to app/${target}: ${clash.dir} and ${resolved}`);
      found.set(target, { dir: resolved, target });
      const child = await readPackageJson(resolved);
      if (child !== undefined) queue.push({ dir: resolved, pkg: child });
    }
  }
  return [...found.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

/** Type declarations and source maps of dependencies: node never loads them, and they are a third of the files. */
const NOT_RUN = /\.(?:d\.[mc]?ts|map)$/;

/** One file of app/: where it comes from, and its path relative to app/ (`/`-separated). */
export interface AppFile {
  from: string;
  to: string;
}

/** What app/ is made of: this package's own files (bin/, dist/, package.json) and its production packages. */
export interface AppSources {
  own: AppFile[];
  packages: ProductionPackage[];
}

/** The package's own files are listed; the dependencies only found (listing their thousands of files is productionAppFiles's job). */
export async function productionAppSources(packageRoot: string): Promise<AppSources> {
  const own: AppFile[] = [{ from: join(packageRoot, 'package.json'), to: 'package.json' }];
  for (const folder of ['bin', 'dist']) {
    for (const file of await listFiles(join(packageRoot, folder))) own.push({ from: join(packageRoot, folder, file), to: `${folder}/${file}` });
  }
  return { own, packages: await productionPackages(packageRoot) };
}

/**
 * What the runtimes run, as app/ holds it: bin/, dist/, package.json and the production
 * node_modules (files, not links). Each package without its own node_modules: the nested packages
 * it needs are in the list themselves, the dev-only ones stay behind.
 */
export async function productionAppFiles({ own, packages }: AppSources): Promise<AppFile[]> {
  const files = [...own];
  for (const pkg of packages) {
    const listed = await listFiles(pkg.dir, (path, isDirectory) => (isDirectory ? path === 'node_modules' : NOT_RUN.test(path)));
    for (const file of listed) files.push({ from: join(pkg.dir, file), to: `${pkg.target.split(sep).join('/')}/${file}` });
  }
  return files;
}

/** Copies `files` (from productionAppFiles) into `appDir`. */
export async function copyAppFiles(files: readonly AppFile[], appDir: string): Promise<void> {
  for (const dir of new Set(files.map(({ to }) => dirname(join(appDir, to))))) await mkdir(dir, { recursive: true });
  await mapLimited(files, 32, ({ from, to }) => copyFile(from, join(appDir, to)));
}
