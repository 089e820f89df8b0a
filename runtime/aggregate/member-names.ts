/**
 * How an aggregate endpoint names what its members offer: `<member>__<name>` for tools and
 * prompts, `<member>__<uri>` for resources and resource templates. Server names are lowercase
 * letters, digits and dashes (config/schema.ts SERVER_NAME), never `_`, so the first `__` always
 * ends the member's name, whatever the member's own names contain.
 */
export const MEMBER_SEPARATOR = '__';

export function memberName(member: string, name: string): string {
  return `${member}${MEMBER_SEPARATOR}${name}`;
}

/** The member and its own name, or undefined for a name that names no member. */
export function splitMemberName(prefixed: string): { member: string; name: string } | undefined {
  const at = prefixed.indexOf(MEMBER_SEPARATOR);
  if (at <= 0) return undefined;
  return { member: prefixed.slice(0, at), name: prefixed.slice(at + MEMBER_SEPARATOR.length) };
}
