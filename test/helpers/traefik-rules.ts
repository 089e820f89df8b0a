/**
 * A small evaluator of the Traefik v3 rule syntax the renderer generates (doc.traefik.io,
 * routing/routers "Rule" and "Priority"): the matchers Host, HostRegexp, Path and PathPrefix
 * with backtick values, `&&`, `||`, `!` and parentheses (`&&` binds tighter than `||`), and
 * Traefik's choice among matching routers: the highest priority, which is the explicit
 * `priority` or else the length of the rule. Two matching routers of the same priority are an
 * ambiguity Traefik resolves arbitrarily, so the evaluator reports it instead of picking one.
 */
export type RuleExpression =
  | { kind: 'matcher'; name: 'Host' | 'HostRegexp' | 'Path' | 'PathPrefix'; value: string }
  | { kind: 'and' | 'or'; left: RuleExpression; right: RuleExpression }
  | { kind: 'not'; operand: RuleExpression };

export interface TraefikRequest {
  host: string;
  path: string;
}

export interface TraefikRouter {
  rule: string;
  priority?: number;
  entryPoints?: string[];
  middlewares?: string[];
  service: string;
}

type Token = { type: 'name' | 'value' | '(' | ')' | '&&' | '||' | '!' | ','; text: string };

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const char = rule[i]!;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '`') {
      const end = rule.indexOf('`', i + 1);
      if (end === -1) throw new SyntaxError(`unclosed backtick in ${rule}`);
      tokens.push({ type: 'value', text: rule.slice(i + 1, end) });
      i = end + 1;
    } else if (rule.startsWith('&&', i) || rule.startsWith('||', i)) {
      tokens.push({ type: rule.slice(i, i + 2) as '&&' | '||', text: rule.slice(i, i + 2) });
      i += 2;
    } else if ('()!,'.includes(char)) {
      tokens.push({ type: char as '(' | ')' | '!' | ',', text: char });
      i++;
    } else {
      const name = /^[A-Za-z]+/.exec(rule.slice(i))?.[0];
      if (name === undefined) throw new SyntaxError(`unexpected ${char} in ${rule}`);
      tokens.push({ type: 'name', text: name });
      i += name.length;
    }
  }
  return tokens;
}

export function parseRule(rule: string): RuleExpression {
  const tokens = tokenize(rule);
  let at = 0;
  const expect = (type: Token['type']): Token => {
    const token = tokens[at++];
    if (token?.type !== type) throw new SyntaxError(`expected ${type} at token ${at} of ${rule}`);
    return token;
  };
  const parseOr = (): RuleExpression => {
    let left = parseAnd();
    while (tokens[at]?.type === '||') {
      at++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): RuleExpression => {
    let left = parseUnary();
    while (tokens[at]?.type === '&&') {
      at++;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): RuleExpression => {
    const token = tokens[at];
    if (token?.type === '!') {
      at++;
      return { kind: 'not', operand: parseUnary() };
    }
    if (token?.type === '(') {
      at++;
      const inner = parseOr();
      expect(')');
      return inner;
    }
    const name = expect('name').text;
    if (name !== 'Host' && name !== 'HostRegexp' && name !== 'Path' && name !== 'PathPrefix')
      throw new SyntaxError(`matcher ${name} is not supported by this evaluator`);
    expect('(');
    const value = expect('value').text;
    expect(')');
    return { kind: 'matcher', name, value };
  };
  const expression = parseOr();
  if (at !== tokens.length) throw new SyntaxError(`trailing tokens in ${rule}`);
  return expression;
}

export function ruleMatches(expression: RuleExpression, request: TraefikRequest): boolean {
  // Traefik compares the host without its port and case-insensitively.
  const host = request.host.replace(/:\d+$/, '').toLowerCase();
  switch (expression.kind) {
    case 'and':
      return ruleMatches(expression.left, request) && ruleMatches(expression.right, request);
    case 'or':
      return ruleMatches(expression.left, request) || ruleMatches(expression.right, request);
    case 'not':
      return !ruleMatches(expression.operand, request);
    case 'matcher':
      switch (expression.name) {
        case 'Host':
          return host === expression.value.toLowerCase();
        case 'HostRegexp':
          return new RegExp(expression.value, 'i').test(host);
        case 'Path':
          return request.path === expression.value;
        case 'PathPrefix':
          return request.path.startsWith(expression.value);
      }
  }
}

export function routerPriority(router: TraefikRouter): number {
  return router.priority !== undefined && router.priority > 0 ? router.priority : router.rule.length;
}

/** The router Traefik hands the request to on `entryPoint`, or undefined (Traefik's 404). */
export function routeRequest(
  routers: Readonly<Record<string, TraefikRouter>>,
  request: TraefikRequest,
  entryPoint = 'websecure',
): { name: string; router: TraefikRouter } | undefined {
  const candidates = Object.entries(routers)
    .filter(([, router]) => router.entryPoints === undefined || router.entryPoints.includes(entryPoint))
    .filter(([, router]) => ruleMatches(parseRule(router.rule), request))
    .sort(([, a], [, b]) => routerPriority(b) - routerPriority(a));
  const [first, second] = candidates;
  if (first === undefined) return undefined;
  if (second !== undefined && routerPriority(second[1]) === routerPriority(first[1])) {
    throw new Error(`${request.host}${request.path} matches ${first[0]} and ${second[0]} with the same priority ${routerPriority(first[1])}`);
  }
  return { name: first[0], router: first[1] };
}
