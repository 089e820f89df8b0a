/** Text styles for lines a person reads in serve's terminal; every one is the identity without colour. */
export interface TerminalStyle {
  bold(text: string): string;
  dim(text: string): string;
  warning(text: string): string;
  /** `lines` in a box drawn with line characters (not colour, so it stays under NO_COLOR). */
  framed(lines: readonly string[]): string;
}

const ESC = '\u001b[';

export function terminalStyle({ color }: { color: boolean }): TerminalStyle {
  const sgr =
    (on: string, off: string) =>
    (text: string): string =>
      color ? `${ESC}${on}m${text}${ESC}${off}m` : text;
  const bold = sgr('1', '22');
  return {
    bold,
    dim: sgr('2', '22'),
    warning: sgr('33', '39'),
    framed(lines) {
      // Widths are measured without escape codes, which take no columns.
      const width = Math.max(0, ...lines.map((line) => visibleLength(line)));
      const rule = '─'.repeat(width + 2);
      return [`┌${rule}┐`, ...lines.map((line) => `│ ${line}${' '.repeat(width - visibleLength(line))} │`), `└${rule}┘`].join('\n');
    },
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape codes is the point
const SGR = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return [...text.replace(SGR, '')].length;
}
