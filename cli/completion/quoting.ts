/** Quoting for the generated scripts: descriptions come from cli/commands/ and hold quotes, `$` and backticks. */

/** A single-quoted word for bash and zsh: nothing inside is expanded. */
export function posixQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A single-quoted word for fish, where `\\` and `\'` are the only escapes inside single quotes. */
export function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A description on one line, short enough for a completion menu. */
export function oneLine(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The words of a command path as the scripts key it: `token issue`, or `` for the program. */
export function pathKey(path: readonly string[]): string {
  return path.join(' ');
}
