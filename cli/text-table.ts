/**
 * Plain-text tables for the admin commands. Cells can hold what strangers sent (client names
 * from dynamic registration): control and format characters are replaced, so nothing reaches
 * the terminal as an escape sequence.
 */
export function formatTable(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const all = [header, ...rows].map((row) => row.map((cell) => printable(cell)));
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return `${all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

export function printable(text: string, max = 200): string {
  const clean = text.replace(/[\p{Cc}\p{Cf}]/gu, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** `2025-06-01T12:34:56Z` (no milliseconds), or `-` for none. */
export function shortTime(iso: string | null): string {
  return iso === null ? '-' : iso.replace(/\.\d{3}Z$/, 'Z');
}
