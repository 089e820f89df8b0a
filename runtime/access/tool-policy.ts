import type { AccessRuleConfig, ToolFilterConfig } from '../config/access-schema.js';
import type { AccessSubject } from './access-subject.js';
import { compileGlob, type NameGlob } from './name-glob.js';
import { canonicalName } from './tool-name.js';

/** What the policy decided about one tool for one user, and the config that decided it (for audit and `access check`). */
export interface ToolDecision {
  readonly allowed: boolean;
  /** `servers.fs.tools.deny[0] "write_*"`, `servers.fs.access[1] (teams: acme/readers) "read_*"`, ... */
  readonly rule: string;
}

export interface ToolPolicy {
  /** False when the server has neither `tools.deny` nor `access`: nothing to filter, no per-call work. */
  readonly active: boolean;
  decide(subject: AccessSubject, tool: string): ToolDecision;
  /** Patterns of the config that matched none of `toolNames` (a typo, or a tool the server renamed): for a warning. */
  unmatchedPatterns(toolNames: readonly string[]): string[];
}

interface CompiledRule {
  readonly index: number;
  readonly who: string;
  readonly users: ReadonlySet<string>;
  readonly groups: ReadonlySet<string>;
  readonly tools: readonly NameGlob[];
}

/** Decisions cached per (login, groups, tool): a policy check is then one Map lookup (issue: at most 5 µs per call). */
const CACHE_ENTRIES = 10_000;

/**
 * A server's tool access: `tools.deny` first (hidden from and refused for everyone), then, when
 * `access` is given, the union of the tools of every rule that names the user; without `access`
 * every user the allowlist admits gets every tool that is not denied. Names are compared in
 * canonical form (tool-name.ts), so a variant of a denied name is denied.
 */
export function createToolPolicy(
  server: string,
  config: { tools?: ToolFilterConfig | undefined; access?: readonly AccessRuleConfig[] | undefined },
): ToolPolicy {
  const deny = (config.tools?.deny ?? []).map(compileGlob);
  const rules = config.access?.map((rule, index) => compileRule(rule, index));
  const active = deny.length > 0 || rules !== undefined;
  const cache = new Map<string, ToolDecision>();
  const prefix = `servers.${server}`;

  function decideUncached(subject: AccessSubject, canonical: string): ToolDecision {
    const denied = deny.findIndex((glob) => glob.matches(canonical));
    if (denied >= 0) return { allowed: false, rule: `${prefix}.tools.deny[${denied}] ${JSON.stringify(deny[denied]!.source)}` };
    if (rules === undefined) return { allowed: true, rule: `${prefix}: no access list, every allowed user gets every tool not denied` };
    let named = false;
    for (const rule of rules) {
      if (!rule.users.has(subject.login) && !subject.groups.some((group) => rule.groups.has(group))) continue;
      named = true;
      const glob = rule.tools.find((tool) => tool.matches(canonical));
      if (glob !== undefined) return { allowed: true, rule: `${prefix}.access[${rule.index}] (${rule.who}) ${JSON.stringify(glob.source)}` };
    }
    return {
      allowed: false,
      rule: named ? `${prefix}.access: no rule naming this user lists the tool` : `${prefix}.access: no rule names this user`,
    };
  }

  return {
    active,
    decide(subject, tool) {
      if (!active) return { allowed: true, rule: `${prefix}: no tools.deny and no access list` };
      const canonical = canonicalName(tool);
      const key = `${subject.login}\n${subject.groups.join(',')}\n${canonical}`;
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      const decision = decideUncached(subject, canonical);
      if (cache.size >= CACHE_ENTRIES) cache.clear();
      cache.set(key, decision);
      return decision;
    },
    unmatchedPatterns(toolNames) {
      const names = toolNames.map(canonicalName);
      const globs = [...deny, ...(rules ?? []).flatMap((rule) => rule.tools)];
      return globs.filter((glob) => !names.some((name) => glob.matches(name))).map((glob) => glob.source);
    },
  };
}

function compileRule(rule: AccessRuleConfig, index: number): CompiledRule {
  const lower = (values: readonly string[] | undefined): string[] => (values ?? []).map((v) => v.toLowerCase());
  const users = lower(rule.users);
  const groups = [
    ...lower(rule.orgs).map((o) => `org:${o}`),
    ...lower(rule.teams).map((t) => `team:${t}`),
    ...lower(rule.emailDomains).map((d) => `domain:${d}`),
  ];
  const who = [
    users.length > 0 ? `users: ${users.join(', ')}` : '',
    rule.orgs?.length ? `orgs: ${lower(rule.orgs).join(', ')}` : '',
    rule.teams?.length ? `teams: ${lower(rule.teams).join(', ')}` : '',
    rule.emailDomains?.length ? `emailDomains: ${lower(rule.emailDomains).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return { index, who, users: new Set(users), groups: new Set(groups), tools: rule.tools.map(compileGlob) };
}

/** The groups (`org:`, `team:`, `domain:`) any rule names: a login records only these (tokens stay small, bridges learn nothing else). */
export function groupsNamedBy(access: readonly AccessRuleConfig[] | undefined): string[] {
  return (access ?? []).flatMap((rule) => [...compileRule(rule, 0).groups]);
}
