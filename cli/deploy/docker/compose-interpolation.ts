/**
 * Compose's variable interpolation (compose-spec, "Interpolation"), applied to every string of
 * compose.yaml before it is read: `$$` is a literal `$` (how a shell command in `command:`
 * reaches the container's own `$VAR`), `${VAR}` / `$VAR` take the CLI's environment, with the
 * `:-` `-` `:?` `?` `:+` `+` modifiers. An unset variable without a default becomes "" and is
 * reported, as `docker compose` warns about it.
 */
export interface Interpolated<T> {
  value: T;
  /** Variables that were unset and replaced by "". */
  unset: string[];
}

export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const PATTERN = new RegExp(`\\$(?:(\\$)|\\{(${NAME})(?:(:?[-?+])((?:[^{}]|\\{[^{}]*\\})*))?\\}|(${NAME})|(\\{[^}]*\\}?))`, 'g');

export function interpolate<T>(value: T, env: Readonly<Record<string, string | undefined>>): Interpolated<T> {
  const unset = new Set<string>();
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') return interpolateString(node, env, unset, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${path}[${i}]`));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, path ? `${path}.${k}` : k)]));
    }
    return node;
  };
  return { value: walk(value, '') as T, unset: [...unset] };
}

function interpolateString(text: string, env: Readonly<Record<string, string | undefined>>, unset: Set<string>, path: string): string {
  return text.replace(PATTERN, (_whole, dollar?: string, braced?: string, modifier?: string, operand?: string, bare?: string, invalid?: string) => {
    if (dollar) return '$';
    if (invalid !== undefined) throw new InterpolationError(`${path || '(root)'}: invalid interpolation $${invalid}; write $$ for a literal $`);
    const name = (braced ?? bare)!;
    const current = env[name];
    const word = operand === undefined ? '' : interpolateString(operand, env, unset, path);
    switch (modifier) {
      case ':-':
        return current === undefined || current === '' ? word : current;
      case '-':
        return current === undefined ? word : current;
      case ':?':
      case '?':
        if (current === undefined || (modifier === ':?' && current === '')) {
          throw new InterpolationError(`${path || '(root)'}: required variable ${name} is missing a value${word ? `: ${word}` : ''}`);
        }
        return current;
      case ':+':
        return current === undefined || current === '' ? '' : word;
      case '+':
        return current === undefined ? '' : word;
      default:
        if (current === undefined) unset.add(name);
        return current ?? '';
    }
  });
}
