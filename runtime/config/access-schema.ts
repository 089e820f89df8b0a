import { z } from 'zod';
import { DURATION_HINT, formatDuration, parseDuration } from './duration.js';

/*
 * Who may call what on a server (runtime/access/): `tools.deny`, `access` rules and
 * `rateLimit`. The names are a contract (docs and `mcp-gateway access check` rely on them).
 */

const GITHUB_ORG = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const GITHUB_TEAM = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9][A-Za-z0-9_-]*$/;
const DOMAIN_NAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$/;
const LOGIN = /^[^\s,]{1,255}$/;

/** A tool name or a glob of them (`*` any run, `?` one character); compared case- and Unicode-insensitively. */
export const toolPattern = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  .refine((text) => !/[\u0000-\u001f\u007f]/.test(text), { message: 'must not contain control characters' });

/** `servers.NAME.tools`: tools hidden from and refused for everyone. */
export const toolFilterSchema = z.strictObject({
  deny: z.array(toolPattern).max(200).default([]),
});

/**
 * One `servers.NAME.access` rule: whom it is about (any of users, orgs, teams, email domains, as
 * in the allowlist) and which tools it gives them. A user gets the union of the rules that name them.
 */
export const accessRuleSchema = z
  .strictObject({
    users: z.array(z.string().regex(LOGIN, 'must be a login (no spaces or commas)')).max(1000).optional(),
    orgs: z.array(z.string().regex(GITHUB_ORG, 'must be a GitHub organization login')).max(100).optional(),
    teams: z.array(z.string().regex(GITHUB_TEAM, 'must be org/team-slug, e.g. acme/readers')).max(100).optional(),
    emailDomains: z.array(z.string().regex(DOMAIN_NAME, 'must be a domain name such as example.com')).max(100).optional(),
    tools: z.array(toolPattern).min(1, 'list at least one tool or glob ("*" for every tool)').max(200),
  })
  .refine((rule) => (rule.users?.length ?? 0) + (rule.orgs?.length ?? 0) + (rule.teams?.length ?? 0) + (rule.emailDomains?.length ?? 0) > 0, {
    message: 'names nobody: give users, orgs, teams or emailDomains',
  });

export type AccessRuleConfig = z.output<typeof accessRuleSchema>;
export type ToolFilterConfig = z.output<typeof toolFilterSchema>;

export const RATE_HINT = `COUNT/WINDOW, e.g. 120/1m or 10/30s (WINDOW: ${DURATION_HINT}, at least 1s)`;

/** A rate: at most `count` requests per `windowMs`. */
export interface Rate {
  count: number;
  windowMs: number;
}

function parseRate(text: string): Rate | undefined {
  const match = /^\s*(\d{1,9})\s*\/\s*(\S+)\s*$/.exec(text);
  if (!match) return undefined;
  const count = Number(match[1]);
  const windowMs = parseDuration(match[2]!);
  if (count < 1 || windowMs === undefined || windowMs < 1000 || windowMs % 1000 !== 0) return undefined;
  return { count, windowMs };
}

/** `120/1m` in the YAML; `{ count: 120, windowMs: 60000 }` in the config. */
export const rate = z.codec(
  z.string().refine((text) => parseRate(text) !== undefined, { message: `not a rate: ${RATE_HINT}` }),
  z.strictObject({ count: z.number().int().positive(), windowMs: z.number().int().positive() }),
  { decode: (text) => parseRate(text)!, encode: (value) => `${value.count}/${formatDuration(value.windowMs)}` },
);

/** `servers.NAME.rateLimit`: per user on this server, and per user per tool. */
export const serverRateLimitSchema = z.strictObject({
  perUser: rate.optional(),
  tools: z.record(toolPattern, rate).optional(),
});

export type ServerRateLimitConfig = z.output<typeof serverRateLimitSchema>;
