import type { GatewayConfig } from '../config/schema.js';
import { groupsNamedBy } from './tool-policy.js';

/** What a login learned that access rules can name (user-policy.ts's UserFacts, the parts used here). */
export interface MembershipFacts {
  orgs?: readonly string[] | undefined;
  teams?: ReadonlyArray<{ org: string; slug: string }> | undefined;
  email?: string | undefined;
  emailVerified?: boolean | undefined;
}

/** Every group (`org:acme`, `team:acme/readers`, `domain:example.com`) some server's `access` names. */
export function accessGroupsOf(config: GatewayConfig): ReadonlySet<string> {
  return new Set(Object.values(config.servers).flatMap((server) => ('aggregate' in server ? [] : groupsNamedBy(server.access))));
}

/** Whether a GitHub login must fetch memberships (scope `read:org`) for the access rules. */
export function accessNeedsMembership(config: GatewayConfig): boolean {
  return [...accessGroupsOf(config)].some((group) => group.startsWith('org:') || group.startsWith('team:'));
}

/**
 * The groups to record for a user: the ones the access rules name that the login proved. A
 * verified address only (an unverified one proves nothing about its owner, as in the allowlist).
 * Sorted, so the same memberships always give the same header and the same policy cache key.
 */
export function groupsOfUser(facts: MembershipFacts, named: ReadonlySet<string>): string[] {
  if (named.size === 0) return [];
  const proven = [
    ...(facts.orgs ?? []).map((org) => `org:${org.toLowerCase()}`),
    ...(facts.teams ?? []).map((team) => `team:${team.org.toLowerCase()}/${team.slug.toLowerCase()}`),
  ];
  if (facts.emailVerified === true && facts.email !== undefined) {
    const at = facts.email.lastIndexOf('@');
    if (at > 0)
      proven.push(
        `domain:${facts.email
          .slice(at + 1)
          .trim()
          .toLowerCase()}`,
      );
  }
  return [...new Set(proven.filter((group) => named.has(group)))].sort();
}
