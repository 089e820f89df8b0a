import type { AccessSubject } from '../access/access-subject.js';
import type { ResponseWatch, ToolGate } from '../access/tool-gate.js';
import type { ToolPolicy } from '../access/tool-policy.js';
import { splitMemberName } from './member-names.js';

type JsonObject = Record<string, unknown>;

function renamed(params: unknown): { member: string; params: JsonObject } | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const name = (params as JsonObject)['name'];
  if (typeof name !== 'string') return undefined;
  const split = splitMemberName(name);
  return split === undefined ? undefined : { member: split.member, params: { ...(params as JsonObject), name: split.name } };
}

/** An aggregate has no policy of its own: every decision is a member's. */
const NO_POLICY: ToolPolicy = {
  active: false,
  decide: () => ({ allowed: true, rule: 'an aggregate has no rules of its own' }),
  unmatchedPatterns: () => [],
};

/**
 * The tool gate of an aggregate endpoint: each `<member>__<tool>` call is put to that member's
 * own gate (its tools.deny, access and rateLimit, its audit lines under its own name), and the
 * merged tools/list keeps what each member's policy lets the user see. A name that names no
 * member is not the gate's to decide: the aggregate answers it as an unknown tool, so no variant
 * of a member's name reaches a member either (the aggregate matches member names exactly).
 */
export function createAggregateGate(members: ReadonlyMap<string, ToolGate>): ToolGate {
  return {
    policy: NO_POLICY,
    screen(subject, method, params) {
      if (method !== 'tools/call') return undefined;
      const call = renamed(params);
      const gate = call === undefined ? undefined : members.get(call.member);
      return gate === undefined ? undefined : gate.screen(subject, method, call!.params);
    },
    listed() {},
    watch(subject: AccessSubject, method, params, timing): ResponseWatch | undefined {
      if (method === 'tools/list') return { answered: (value, line) => filterMerged(members, subject, value, line), failed: () => {} };
      if (method !== 'tools/call') return undefined;
      const call = renamed(params);
      const gate = call === undefined ? undefined : members.get(call.member);
      return gate?.watch(subject, method, call!.params, timing);
    },
  };
}

function filterMerged(members: ReadonlyMap<string, ToolGate>, subject: AccessSubject, value: JsonObject, line: string): string {
  const result = value['result'];
  if (typeof result !== 'object' || result === null) return line;
  const tools = (result as JsonObject)['tools'];
  if (!Array.isArray(tools)) return line;
  const listed = new Map<string, string[]>();
  const kept = tools.filter((tool: unknown) => {
    const name = typeof tool === 'object' && tool !== null ? (tool as JsonObject)['name'] : undefined;
    const split = typeof name === 'string' ? splitMemberName(name) : undefined;
    if (split !== undefined) listed.get(split.member)?.push(split.name) ?? listed.set(split.member, [split.name]);
    const policy = split === undefined ? undefined : members.get(split.member)?.policy;
    return policy !== undefined && split !== undefined && policy.decide(subject, split.name).allowed;
  });
  for (const [member, names] of listed) members.get(member)?.listed(names);
  if (kept.length === tools.length) return line;
  return JSON.stringify({ ...value, result: { ...(result as JsonObject), tools: kept } });
}
