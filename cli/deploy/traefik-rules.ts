/**
 * Traefik v3 router rules (doc.traefik.io, "Rule" of HTTP routers): matchers with their value in
 * backticks, combined with `&&`, `||` and parentheses. Values come from the validated config
 * (host names, server names), so a backtick or a space in one is a bug, not input to escape.
 */
function literal(value: string): string {
  if (value === '' || /[`\s]/.test(value)) throw new TypeError(`not usable in a Traefik rule: ${JSON.stringify(value)}`);
  return `\`${value}\``;
}

export function host(name: string): string {
  return `Host(${literal(name)})`;
}

export function path(value: string): string {
  return `Path(${literal(value)})`;
}

export function pathPrefix(value: string): string {
  return `PathPrefix(${literal(value)})`;
}

/** `a || b || c` in parentheses, ready to be one operand of `&&`. */
export function anyOf(...rules: string[]): string {
  return rules.length === 1 ? rules[0]! : `(${rules.join(' || ')})`;
}

export function allOf(...rules: string[]): string {
  return rules.join(' && ');
}

/** The MCP endpoint with and without a trailing slash, as the auth runtime and the built-in router accept both. */
export function mcpEndpoint(hostname: string, endpointPath: string): string {
  return allOf(host(hostname), anyOf(path(endpointPath), path(`${endpointPath}/`)));
}
