import { GatewayError } from '../../../runtime/errors.js';

/**
 * The longest line kustomize reads from an env file: it scans them with Go's bufio.Scanner,
 * whose default buffer (bufio.MaxScanTokenSize, 64 KiB) must hold a line and its newline, and
 * fails the whole build on a longer one.
 */
const MAX_LINE_BYTES = 64 * 1024 - 1;

/**
 * One env file of a `secretGenerator` (kustomize api/kv/kv.go, keyValuesFromLine): `KEY=VALUE`,
 * the value everything after the first `=` up to the end of the line, taken literally (no quotes
 * removed, no escapes, no interpolation), lines starting with `#` ignored. So no value is
 * quoted or escaped here, and one that cannot be carried that way is refused rather than
 * mangled: a line break would end it (and a `\r` before one is dropped by the scanner), a NUL
 * cannot be in an environment variable, invalid UTF-8 fails the build.
 */
export function formatKustomizeEnvFile(service: string, entries: ReadonlyArray<readonly [string, string]>): string {
  const lines = [
    `# Secrets of the ${service} service, written by \`mcp-gateway render --target kubernetes\` (mode 0600).`,
    '# kustomization.yaml turns this file into a Secret; each value runs literally to the end of its line.',
  ];
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`${name} is not an environment variable name`);
    const line = `${name}=${value}`;
    if (/[\r\n\0]/.test(value) || !encodesAsUtf8(value) || Buffer.byteLength(line) > MAX_LINE_BYTES) {
      throw new GatewayError(
        'ERR_SECRET_UNSAFE',
        `the value of ${name} for ${service} contains a line break, a NUL character or a lone surrogate, or is longer than a kustomize env file line (64 KiB), which an env file cannot carry literally`,
        { hint: 'use a secret without those characters (the .secrets/ file it comes from), then render again' },
      );
    }
    lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

/** A string with a lone surrogate has no UTF-8 form: Buffer writes U+FFFD instead, which would change the secret. */
function encodesAsUtf8(value: string): boolean {
  return Buffer.from(value, 'utf8').toString('utf8') === value;
}
