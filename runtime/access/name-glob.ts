import { canonicalName } from './tool-name.js';

/**
 * A tool-name pattern of the config (`write_*`, `read_?ile`, `search_files`): `*` matches any
 * run of characters, `?` one character, everything else itself, compared in canonical form
 * (tool-name.ts), so `Write_*` and `write_*` are the same pattern. Hand-written: a glob library
 * (picomatch, minimatch) is about paths, treats `/`, `.` and braces specially and would make
 * `fs/read` or `{a,b}` mean something a tool name does not.
 */
export interface NameGlob {
  readonly source: string;
  matches(canonical: string): boolean;
}

export function compileGlob(source: string): NameGlob {
  const canonical = canonicalName(source);
  if (!canonical.includes('*') && !canonical.includes('?')) return { source, matches: (name) => name === canonical };
  const body = canonical
    .replace(/[.+^${}()|[\]\\/]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const pattern = new RegExp(`^${body}$`, 'su');
  return { source, matches: (name) => pattern.test(name) };
}
