import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { suggestUrl } from './url-suggestion.js';

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;
export interface ExplainedIssue {
  path: PropertyKey[];
  message: string;
}

interface Explained extends ExplainedIssue {
  /** A required key that is absent. */
  missing?: boolean;
  /** The known key an unknown one is probably a misspelling of. */
  suggests?: string;
}

/**
 * zod's issues as `dotted.path: what is wrong` lines a person can act on. With the schema they
 * were found against, an unknown key names the closest valid key at that place (`comand`: did
 * you mean command?), and a URL written without its scheme gets the URL it probably meant.
 */
export function formatIssues(issues: readonly Issue[], schema?: Schema): string[] {
  return explainIssues(issues, schema).map((issue) => `${issue.path.map(pathSegment).join('.') || '(root)'}: ${issue.message}`);
}

/**
 * A key as it appears in the dotted path: plain when it is a word, quoted (JSON) otherwise, so
 * a key holding a dot, a newline or an escape sequence reads unambiguously and cannot rewrite
 * the terminal it is printed to.
 */
function pathSegment(segment: PropertyKey): string {
  const text = String(segment);
  if (/^[\w@-]+$/.test(text)) return text;
  // JSON escapes C0 controls; C1 controls (U+009B starts a CSI sequence too) and bidi marks as well.
  return JSON.stringify(text).replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

export function explainIssues(issues: readonly Issue[], schema?: Schema): ExplainedIssue[] {
  const explained = issues.flatMap((issue) => explainIssue(issue, [], schema));
  // `comand: did you mean command?` already says what `command: missing` would.
  const suggested = new Set(explained.flatMap((issue) => (issue.suggests === undefined ? [] : [pathKey([...issue.path.slice(0, -1), issue.suggests])])));
  return explained.filter((issue) => !(issue.missing && suggested.has(pathKey(issue.path)))).map(({ path, message }) => ({ path, message }));
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String));
}

/**
 * A server entry is one of three shapes (a zod union); when it matches none, zod says only
 * "Invalid input". The shape the entry came closest to (fewest problems) is the one the user
 * meant, so its own problems are reported instead: `servers.s.network: must be none`.
 */
function explainIssue(issue: Issue, prefix: PropertyKey[], root: Schema | undefined): Explained[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    let best = 0;
    issue.errors.forEach((option, index) => {
      if (option.length < issue.errors[best]!.length) best = index;
    });
    const options = unionOptions(schemaAt(root, issue.path));
    if (issue.errors[best]!.length === 0) return [{ path, message: issue.message }];
    return issue.errors[best]!.flatMap((inner) => explainIssue(inner, path, options?.[best]));
  }
  if (issue.code === 'unrecognized_keys') {
    const known = objectKeys(schemaAt(root, issue.path));
    return issue.keys.map((key) => {
      const near = nearKey(key, known);
      return near === undefined
        ? { path: [...path, key], message: known.length === 0 ? 'unknown key' : `unknown key (valid here: ${known.join(', ')})` }
        : { path: [...path, key], message: `unknown key; did you mean ${near}?`, suggests: near };
    });
  }
  if (issue.code === 'invalid_type' && issue.input === undefined && 'input' in issue) return [{ path, message: 'is required', missing: true }];
  if (issue.code === 'invalid_format' && issue.format === 'url' && typeof issue.input === 'string') {
    const suggestion = suggestUrl(issue.input);
    if (suggestion !== undefined) return [{ path, message: `${JSON.stringify(issue.input)} is not a URL: write ${suggestion}` }];
  }
  return [{ path, message: issue.message }];
}

function nearKey(key: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const near = closest(key, [...known]);
  // A typo is a letter or two off; a longer key may be further off and still mean the same.
  return distance(key.toLowerCase(), near.toLowerCase()) <= Math.max(2, Math.floor(key.length / 3)) ? near : undefined;
}

/** The schema that validated the value at `path`, looking through optional, default, codec and the like. */
function schemaAt(schema: Schema | undefined, path: readonly PropertyKey[]): Schema | undefined {
  let current = unwrap(schema);
  for (const segment of path) {
    if (current === undefined) return undefined;
    const def = current._zod.def as unknown as Record<string, unknown>;
    if (def['type'] === 'object') current = unwrap((def['shape'] as Record<string, Schema>)[String(segment)]);
    else if (def['type'] === 'record') current = unwrap(def['valueType'] as Schema);
    else if (def['type'] === 'array') current = unwrap(def['element'] as Schema);
    else return undefined;
  }
  return current;
}

function unwrap(schema: Schema | undefined): Schema | undefined {
  let current = schema;
  for (let depth = 0; current !== undefined && depth < 20; depth++) {
    const def = current._zod.def as unknown as Record<string, unknown>;
    if ('innerType' in def) current = def['innerType'] as Schema;
    else if (def['type'] === 'pipe') current = def['in'] as Schema;
    else return current;
  }
  return current;
}

function unionOptions(schema: Schema | undefined): Schema[] | undefined {
  const def = schema?._zod.def as unknown as Record<string, unknown> | undefined;
  return def?.['type'] === 'union' ? (def['options'] as Schema[]) : undefined;
}

/** The keys an object schema allows; for a union of objects (the provider types), any option's. */
function objectKeys(schema: Schema | undefined): string[] {
  if (schema === undefined) return [];
  const def = schema._zod.def as unknown as Record<string, unknown>;
  if (def['type'] === 'object') return Object.keys(def['shape'] as object);
  const options = unionOptions(schema);
  return options === undefined ? [] : [...new Set(options.flatMap((option) => objectKeys(unwrap(option))))];
}
