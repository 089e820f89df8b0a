/**
 * Reads a compose `env_file` the way `docker compose` does (docs.docker.com/compose/env-file):
 * `#` lines and blank lines ignored; `KEY=VALUE` with an optional `export ` prefix; unquoted
 * values trimmed, with an inline comment only after whitespace (`VAL # comment`); single-quoted
 * values literal; double-quoted values with `\n \r \t \\ \"` escapes; quoted values may span
 * lines. A bare `KEY` takes the value from `lookup` (the CLI's environment) or is left out.
 * Values are never interpolated: the files hold secrets written by `render`, taken as they are.
 */
export type EnvFileResult = { ok: true; env: Array<[string, string]> } | { ok: false; line: number; reason: string };

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parseEnvFile(text: string, lookup: (key: string) => string | undefined = () => undefined): EnvFileResult {
  const env: Array<[string, string]> = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    let line = lines[i]!.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice('export '.length).trimStart();
    const eq = line.indexOf('=');
    if (eq === -1) {
      const key = line.trim();
      if (!KEY.test(key)) return { ok: false, line: lineNumber, reason: 'expected KEY=VALUE' };
      const value = lookup(key);
      if (value !== undefined) env.push([key, value]);
      continue;
    }
    const key = line.slice(0, eq).trim();
    if (!KEY.test(key)) return { ok: false, line: lineNumber, reason: 'expected KEY=VALUE with a variable name before =' };
    let rest = line.slice(eq + 1).trimStart();
    const quote = rest[0];
    if (quote !== '"' && quote !== "'") {
      const comment = rest.search(/\s#/);
      env.push([key, (comment === -1 ? rest : rest.slice(0, comment)).trim()]);
      continue;
    }
    // A quoted value runs to the matching unescaped quote, possibly over several lines.
    rest = rest.slice(1);
    let raw = '';
    let closed = false;
    for (;;) {
      const end = closingQuote(rest, quote);
      if (end !== -1) {
        raw += rest.slice(0, end);
        const after = rest.slice(end + 1).trim();
        if (after !== '' && !after.startsWith('#')) return { ok: false, line: lineNumber, reason: 'unexpected text after the closing quote' };
        closed = true;
        break;
      }
      raw += `${rest}\n`;
      i++;
      if (i >= lines.length) break;
      rest = lines[i]!;
    }
    if (!closed) return { ok: false, line: lineNumber, reason: `the ${quote === '"' ? 'double' : 'single'} quote is never closed` };
    env.push([key, quote === '"' ? unescapeDouble(raw) : raw.replace(/\\'/g, "'")]);
  }
  return { ok: true, env };
}

function closingQuote(text: string, quote: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"', $: '$' };

function unescapeDouble(raw: string): string {
  return raw.replace(/\\(.)/g, (whole, char: string) => ESCAPES[char] ?? whole);
}
