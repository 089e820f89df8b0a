/**
 * Who may log in: the allowlist, as a pure function of what the identity provider said about the
 * user. Any one rule admits (users OR orgs OR teams OR email domains); with no rules nobody gets
 * in. GitHub compares logins, org logins and team slugs case-insensitively, and DNS names are
 * case-insensitive, so every comparison here is on lowercase.
 */

export interface UserPolicyOptions {
  /** GitHub (or other provider) logins; an entry with an `@` is an email address instead (matched only when verified). */
  users: readonly string[];
  /** GitHub organization logins. */
  githubOrgs?: readonly string[];
  /** GitHub teams as `org/team-slug`. */
  githubTeams?: readonly string[];
  /** Email domains (`example.com`, exact: no sub-domains), for OpenID Connect providers. */
  emailDomains?: readonly string[];
}

/** What the login learned about the user; `orgs`/`teams` only when `needsMembership` made it ask. */
export interface UserFacts {
  login: string;
  orgs?: readonly string[];
  teams?: ReadonlyArray<{ org: string; slug: string }>;
  email?: string;
  /** The provider's `email_verified`; an unverified address proves nothing about its owner. */
  emailVerified?: boolean;
}

export interface UserPolicy {
  /** True when org or team rules exist: the login must fetch memberships (GitHub scope `read:org`). */
  readonly needsMembership: boolean;
  isAllowed(user: UserFacts): boolean;
  /**
   * The rule that lets this user in (`user:alice`, `email:a@b.c`, `org:acme`, `team:acme/platform`,
   * `domain:example.com`), or undefined. Tokens carry it, so /verify can tell on every request
   * whether the rule that admitted the user is still configured.
   */
  match(user: UserFacts): string | undefined;
  hasRule(rule: string): boolean;
}

/** GitHub: alphanumerics and single hyphens, at most 39 characters (org logins follow the same rule). */
const GITHUB_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38})$/;
/** Team slugs are derived from names: lowercase alphanumerics, hyphens and underscores. */
const TEAM_SLUG = /^[a-z0-9][a-z0-9_-]*$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/**
 * The rule a token or grant was admitted by: its recorded `allowedBy`, or for tokens that carry
 * none (minted by `mcp-gateway token issue`, or issued before rules were recorded) the login's own
 * `user:` rule.
 */
export function admittingRule(user: { login: string; allowedBy?: string | undefined }): string {
  return user.allowedBy ?? `user:${user.login.toLowerCase()}`;
}

export function createUserPolicy({ users, githubOrgs = [], githubTeams = [], emailDomains = [] }: UserPolicyOptions): UserPolicy {
  const logins = new Set<string>();
  const emails = new Set<string>();
  for (const entry of users) {
    const value = entry.trim().toLowerCase();
    if (!value) throw new TypeError('users: empty entry');
    if (value.includes('@')) {
      if (emailDomainOf(value) === undefined) throw new TypeError(`users: not an email address: ${entry}`);
      emails.add(value);
    } else {
      logins.add(value);
    }
  }
  const orgs = new Set(
    githubOrgs.map((org) => {
      const value = org.trim().toLowerCase();
      if (!GITHUB_NAME.test(value)) throw new TypeError(`githubOrgs: not a GitHub organization login: ${org}`);
      return value;
    }),
  );
  const teams = new Set(
    githubTeams.map((team) => {
      const [org = '', slug = '', ...rest] = team.trim().toLowerCase().split('/');
      if (rest.length > 0 || !GITHUB_NAME.test(org) || !TEAM_SLUG.test(slug)) {
        throw new TypeError(`githubTeams: expected "org/team-slug": ${team}`);
      }
      return `${org}/${slug}`;
    }),
  );
  const domains = new Set(
    emailDomains.map((domain) => {
      const value = domain.trim().toLowerCase();
      if (!DOMAIN.test(value)) throw new TypeError(`emailDomains: not a domain name (no "@", no wildcard): ${domain}`);
      return value;
    }),
  );

  const match = ({ login, orgs: userOrgs = [], teams: userTeams = [], email, emailVerified }: UserFacts): string | undefined => {
    if (login && logins.has(login.toLowerCase())) return `user:${login.toLowerCase()}`;
    // `=== true`: without the provider's word that the address was verified, anyone could have typed it in.
    if (emailVerified === true && email !== undefined) {
      const address = email.trim().toLowerCase();
      if (emails.has(address)) return `email:${address}`;
      const domain = emailDomainOf(address);
      if (domain !== undefined && domains.has(domain)) return `domain:${domain}`;
    }
    const org = userOrgs.map((o) => o.toLowerCase()).find((o) => orgs.has(o));
    if (org !== undefined) return `org:${org}`;
    const team = userTeams.map((t) => `${t.org.toLowerCase()}/${t.slug.toLowerCase()}`).find((t) => teams.has(t));
    if (team !== undefined) return `team:${team}`;
    return undefined;
  };
  const rules = new Set([
    ...[...logins].map((l) => `user:${l}`),
    ...[...emails].map((e) => `email:${e}`),
    ...[...orgs].map((o) => `org:${o}`),
    ...[...teams].map((t) => `team:${t}`),
    ...[...domains].map((d) => `domain:${d}`),
  ]);

  return {
    needsMembership: orgs.size > 0 || teams.size > 0,
    isAllowed: (user) => match(user) !== undefined,
    match,
    hasRule: (rule) => rules.has(rule),
  };
}

/** The part after the last `@` ("a@b"@example.com is a valid address), if the address has both parts. */
function emailDomainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0) return undefined;
  const domain = address.slice(at + 1);
  return DOMAIN.test(domain) ? domain : undefined;
}
