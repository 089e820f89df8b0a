/** Docker's memory notation (`512m`, `1g`, `256MiB`): a number and a binary unit. */
export const BYTE_SIZE = /^(\d{1,13}(?:\.\d{1,3})?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)$/i;
export const BYTE_SIZE_HINT = 'use a number and a unit, e.g. 256m, 512MiB or 1g';

const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const UNITS_DESCENDING = ['g', 'm', 'k'] as const;

/** Parses a size such as `512m` into bytes; undefined when the text is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = BYTE_SIZE.exec(text.trim());
  if (!match) return undefined;
  const bytes = Math.round(Number(match[1]) * UNIT_BYTES[match[2]!.toLowerCase()[0]!]!);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** The inverse of parseByteSize in Docker's notation: 1_073_741_824 becomes `1g`, 1536 MiB `1536m`. */
export function formatByteSize(bytes: number): string {
  for (const unit of UNITS_DESCENDING) {
    if (bytes % UNIT_BYTES[unit]! === 0) return `${bytes / UNIT_BYTES[unit]!}${unit}`;
  }
  return `${bytes}b`;
}
