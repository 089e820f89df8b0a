import { parseConfig } from '../runtime/config/load-config.js';
import { policyFor } from '../runtime/auth/auth-context.js';
import { describe, expect, it } from 'vitest';
import { createUserPolicy } from '../runtime/auth/policy/user-policy.js';

describe('user policy', () => {
  it('admits listed logins whatever their case, and nobody else', () => {
    const policy = createUserPolicy({ users: ['Alice', 'bob'] });
    expect(policy.isAllowed({ login: 'alice' })).toBe(true);
    expect(policy.isAllowed({ login: 'BOB' })).toBe(true);
    expect(policy.isAllowed({ login: 'mallory' })).toBe(false);
    expect(policy.isAllowed({ login: '' })).toBe(false);
  });

  it('admits nobody when no rule is configured', () => {
    const policy = createUserPolicy({ users: [] });
    expect(policy.isAllowed({ login: 'alice', orgs: ['acme'], email: 'a@example.com', emailVerified: true })).toBe(false);
    expect(policy.needsMembership).toBe(false);
  });

  it('needs memberships only when org or team rules exist', () => {
    expect(createUserPolicy({ users: ['a'], emailDomains: ['example.com'] }).needsMembership).toBe(false);
    expect(createUserPolicy({ users: [], githubOrgs: ['acme'] }).needsMembership).toBe(true);
    expect(createUserPolicy({ users: [], githubTeams: ['acme/platform'] }).needsMembership).toBe(true);
  });

  it('admits members of a listed org, case-insensitively', () => {
    const policy = createUserPolicy({ users: [], githubOrgs: ['Acme'] });
    expect(policy.isAllowed({ login: 'x', orgs: ['other', 'ACME'] })).toBe(true);
    expect(policy.isAllowed({ login: 'x', orgs: ['acme-corp'] })).toBe(false);
    expect(policy.isAllowed({ login: 'x' })).toBe(false);
  });

  it('admits members of a listed team only, not the whole org or a same-named team elsewhere', () => {
    const policy = createUserPolicy({ users: [], githubTeams: ['Acme/Platform'] });
    expect(policy.isAllowed({ login: 'x', teams: [{ org: 'acme', slug: 'platform' }] })).toBe(true);
    expect(policy.isAllowed({ login: 'x', teams: [{ org: 'ACME', slug: 'PLATFORM' }] })).toBe(true);
    expect(policy.isAllowed({ login: 'x', orgs: ['acme'], teams: [{ org: 'acme', slug: 'sales' }] })).toBe(false);
    expect(policy.isAllowed({ login: 'x', teams: [{ org: 'globex', slug: 'platform' }] })).toBe(false);
  });

  it('admits a verified email in a listed domain, exactly that domain', () => {
    const policy = createUserPolicy({ users: [], emailDomains: ['Example.com'] });
    expect(policy.isAllowed({ login: 's1', email: 'Alice@EXAMPLE.com', emailVerified: true })).toBe(true);
    expect(policy.isAllowed({ login: 's1', email: 'alice@sub.example.com', emailVerified: true })).toBe(false);
    expect(policy.isAllowed({ login: 's1', email: 'alice@example.com.evil.net', emailVerified: true })).toBe(false);
    expect(policy.isAllowed({ login: 's1', email: 'alice@notexample.com', emailVerified: true })).toBe(false);
  });

  it('ignores an email address the provider has not verified', () => {
    const policy = createUserPolicy({ users: ['carol@example.org'], emailDomains: ['example.com'] });
    expect(policy.isAllowed({ login: 's1', email: 'alice@example.com', emailVerified: false })).toBe(false);
    expect(policy.isAllowed({ login: 's1', email: 'alice@example.com' })).toBe(false);
    expect(policy.isAllowed({ login: 's1', email: 'carol@example.org' })).toBe(false);
    expect(policy.isAllowed({ login: 's1', email: 'Carol@Example.org', emailVerified: true })).toBe(true);
  });

  it('takes the domain after the last @, so a quoted local part cannot smuggle one in', () => {
    const policy = createUserPolicy({ users: [], emailDomains: ['example.com'] });
    expect(policy.isAllowed({ login: 's1', email: '"x@example.com"@evil.net', emailVerified: true })).toBe(false);
    expect(policy.isAllowed({ login: 's1', email: '@example.com', emailVerified: true })).toBe(false);
  });

  it('matches an email entry in users only against a verified email, never against a login', () => {
    const policy = createUserPolicy({ users: ['alice@example.com'] });
    expect(policy.isAllowed({ login: 'alice@example.com' })).toBe(false);
    expect(policy.isAllowed({ login: 'x', email: 'alice@example.com', emailVerified: true })).toBe(true);
  });

  it('admits when any one rule admits', () => {
    const policy = createUserPolicy({ users: ['alice'], githubOrgs: ['acme'], githubTeams: ['globex/ops'] });
    expect(policy.isAllowed({ login: 'alice', orgs: [], teams: [] })).toBe(true);
    expect(policy.isAllowed({ login: 'bob', orgs: ['acme'] })).toBe(true);
    expect(policy.isAllowed({ login: 'carol', teams: [{ org: 'globex', slug: 'ops' }] })).toBe(true);
    expect(policy.isAllowed({ login: 'dave', orgs: ['globex'] })).toBe(false);
  });

  it.each([
    [{ users: [''] }],
    [{ users: ['not@an@address@'] }],
    [{ users: [], githubOrgs: ['acme/platform'] }],
    [{ users: [], githubTeams: ['platform'] }],
    [{ users: [], githubTeams: ['acme/platform/extra'] }],
    [{ users: [], emailDomains: ['@example.com'] }],
    [{ users: [], emailDomains: ['*.example.com'] }],
  ])('treats a malformed rule as a programming error: %j', (options) => {
    expect(() => createUserPolicy(options)).toThrow(TypeError);
  });
});

describe('the config schema and the policy agree on allowlist entries', () => {
  const base = { publicUrl: 'http://127.0.0.1:1', provider: { type: 'local', user: 'alice' } };
  it('refuses at load an entry the policy could not use (a crash at start before)', () => {
    for (const entry of ['a@b', 'x@y@example', 'carol@localhost']) {
      expect(() => parseConfig({ ...base, allowedUsers: ['alice', entry] }, 'test'), entry).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    }
  });
  it('builds a policy from every entry it accepts', () => {
    const config = parseConfig({ ...base, allowedUsers: ['alice', 'Bob_acme', 'carol@example.com', 'sub|1234', 'auth0:abc'] }, 'test');
    expect(() => policyFor(config)).not.toThrow();
  });
});
