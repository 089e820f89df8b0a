/**
 * Strings a client chooses and a person later reads (the consent page, the login page, the
 * operator's terminal, `clients list`). Escaping HTML is not enough for them: a bidi override
 * (U+202E) makes "Claude\u202Eevil" read backwards, zero-width characters (U+200B, U+2060, BOM)
 * hide a difference between two names that look identical, the isolates U+2066..2069 reorder what
 * follows, and U+2028/U+2029 break a line in a terminal or log viewer as a newline would.
 *
 * Refused: control characters (Cc), format characters (Cf: bidi controls, zero-width characters,
 * the BOM, soft hyphen), lone surrogates (Cs: not text, rendered as replacement characters) and
 * the line and paragraph separators (Zl, Zp). That also refuses the zero-width joiner inside
 * emoji sequences: an application name can do without a family emoji.
 */
const UNSAFE_FOR_DISPLAY = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

export const DISPLAY_TEXT_MESSAGE = 'must not contain control, format (bidi, zero-width) or line-separator characters';

/** True when the string is safe to show to a person as it is. */
export function isDisplaySafe(text: string): boolean {
  return !UNSAFE_FOR_DISPLAY.test(text);
}
