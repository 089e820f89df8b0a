import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const IMPORT = /(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of the package's own code, as [importing file, imported file], root-relative. */
function imports(): Array<[string, string]> {
  return ['runtime', 'cli'].flatMap((top) =>
    sources(join(ROOT, top)).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(IMPORT)].map(
        ([, spec]) => [relative(ROOT, file), relative(ROOT, resolve(dirname(file), spec!))] as [string, string],
      ),
    ),
  );
}

/** `runtime/auth/endpoints/x.ts` -> `runtime/auth`: the folders the design names. */
function area(path: string): string {
  return path.split(sep).slice(0, 2).join('/');
}

describe('the layout shows the architecture', () => {
  it('runtime never imports the CLI', () => {
    expect(imports().filter(([from, to]) => from.startsWith('runtime') && to.startsWith('cli'))).toEqual([]);
  });

  it('no two runtime folders import each other, directly or around a circle', () => {
    const edges = new Map<string, Set<string>>();
    for (const [from, to] of imports()) {
      if (!from.startsWith('runtime') || !to.startsWith('runtime')) continue;
      const [a, b] = [area(from), area(to)];
      // A file directly in runtime/ (gateway.ts, errors.ts...) assembles or is shared by all.
      if (a === b || a.endsWith('.ts') || b.endsWith('.ts')) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
    const circles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      for (const next of edges.get(node) ?? []) {
        if (next === path[0]) circles.push([...path, next].join(' -> '));
        else if (!path.includes(next) && next > path[0]!) visit(next, [...path, next]);
      }
    };
    for (const start of edges.keys()) visit(start, [start]);
    expect(circles).toEqual([]);
  });
});
