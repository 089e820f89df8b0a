/**
 * The parameters of the Bearer challenge in a 401's `WWW-Authenticate` (RFC 9110 §11.6.1,
 * RFC 6750 §3), where an MCP server names its protected resource metadata (`resource_metadata`,
 * RFC 9728 §5.1) and the scopes it wants (`scope`, MCP 2025-11-25 "Scope Selection Strategy").
 *
 * One header may hold several challenges (`Basic realm="x", Bearer resource_metadata="…"`), and
 * Node joins repeated headers with ", ", so the parser walks challenges and parameters rather
 * than splitting on commas: a quoted value may itself contain commas. It never throws; input it
 * cannot read yields what it read so far.
 */

export interface BearerChallenge {
  resourceMetadata: string | undefined;
  scope: string | undefined;
}

interface Challenge {
  scheme: string;
  params: Map<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*/;

/** The first Bearer challenge's parameters, or undefined when there is none. */
export function bearerChallenge(header: string | string[] | undefined): BearerChallenge | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(', ') : header;
  const bearer = parseChallenges(text).find((c) => c.scheme === 'bearer');
  if (bearer === undefined) return undefined;
  return { resourceMetadata: bearer.params.get('resource_metadata'), scope: bearer.params.get('scope') };
}

function parseChallenges(text: string): Challenge[] {
  const challenges: Challenge[] = [];
  let rest = text;
  let current: Challenge | undefined;
  const skip = (pattern: RegExp): void => {
    rest = rest.replace(pattern, '');
  };
  for (;;) {
    skip(/^[\s,]+/);
    const name = TOKEN.exec(rest)?.[0];
    if (name === undefined) return challenges;
    rest = rest.slice(name.length);
    skip(/^[ \t]*/);
    if (rest.startsWith('=') && current !== undefined) {
      // An auth-param of the current challenge: name BWS "=" BWS ( token / quoted-string ).
      skip(/^=[ \t]*/);
      const value = readValue();
      if (value === undefined) return challenges;
      const key = name.toLowerCase();
      // RFC 9110 §11.2: each parameter name appears at most once; the first one counts.
      if (!current.params.has(key)) current.params.set(key, value);
      continue;
    }
    current = { scheme: name.toLowerCase(), params: new Map() };
    challenges.push(current);
    // A token68 (`Basic dXNlcjpwYXNz`) carries no parameters: step over it when it is one.
    const token68 = TOKEN68.exec(rest)?.[0];
    if (token68 !== undefined && /^[ \t]*(?:,|$)/.test(rest.slice(token68.length))) rest = rest.slice(token68.length);
  }

  function readValue(): string | undefined {
    if (rest.startsWith('"')) {
      let value = '';
      for (let i = 1; i < rest.length; i++) {
        const ch = rest[i];
        if (ch === '\\' && i + 1 < rest.length) {
          value += rest[++i];
        } else if (ch === '"') {
          rest = rest.slice(i + 1);
          return value;
        } else {
          value += ch;
        }
      }
      return undefined;
    }
    // RFC 9110 wants a token here, which a URL is not (`:` and `/`); servers send unquoted URLs
    // anyway, so read up to the next separator. What is read is checked as a URL afterwards.
    const bare = /^[^\s,"]+/.exec(rest)?.[0];
    if (bare === undefined) return undefined;
    rest = rest.slice(bare.length);
    return bare;
  }
}
