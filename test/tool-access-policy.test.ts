import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupsOfUser } from '../runtime/access/access-groups.js';
import { compileGlob } from '../runtime/access/name-glob.js';
import { createRateLimits } from '../runtime/access/rate-limits.js';
import { canonicalName } from '../runtime/access/tool-name.js';
import { createToolPolicy } from '../runtime/access/tool-policy.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { configSchema } from '../runtime/config/schema.js';
import { memoryRateCounter } from '../runtime/store/rate-counter.js';
import { runCli } from './helpers/cli-run.js';
import { tempProjectDir } from './helpers/temp-project.js';

const alice = { sub: 'github:1', login: 'alice', groups: [] };
const bob = { sub: 'github:2', login: 'bob', groups: ['team:acme/readers'] };
const carol = { sub: 'github:3', login: 'carol', groups: [] };

const fsServer = {
  tools: { deny: ['write_*', 'move_file'] },
  access: [
    { users: ['alice'], tools: ['*'] },
    { teams: ['acme/readers'], tools: ['read_*', 'list_*', 'search_files'] },
  ],
};

function base(overrides: Record<string, unknown> = {}, provider: Record<string, unknown> = { type: 'github', clientId: 'Iv1.abc', orgs: [], teams: [] }) {
  return { publicUrl: 'https://mcp.example.com', provider, allowedUsers: ['alice', 'bob'], ...overrides };
}

describe('canonical tool names', () => {
  it('folds case, compatibility forms, ignorable code points and blanks', () => {
    expect(canonicalName('WRITE_FILE')).toBe('write_file');
    expect(canonicalName('ｗｒｉｔｅ_ｆｉｌｅ')).toBe('write_file');
    expect(canonicalName('write\u200b_file')).toBe('write_file');
    expect(canonicalName('write_\u00adfile')).toBe('write_file');
    expect(canonicalName(' write_file\t')).toBe('write_file');
    expect(canonicalName('Write\uFE0F_File')).toBe('write_file');
  });

  it('globs match in canonical form and treat regex characters literally', () => {
    expect(compileGlob('Write_*').matches(canonicalName('WRITE_FILE'))).toBe(true);
    expect(compileGlob('read_?ile').matches('read_file')).toBe(true);
    expect(compileGlob('a.b').matches('axb')).toBe(false);
    expect(compileGlob('a.b').matches('a.b')).toBe(true);
    expect(compileGlob('(x|y)+').matches('x')).toBe(false);
    expect(compileGlob('*').matches('anything\nat all')).toBe(true);
  });
});

describe('tool policy', () => {
  const policy = createToolPolicy('fs', fsServer);

  it('deny wins over every access rule, whatever the variant of the name', () => {
    for (const name of ['write_file', 'WRITE_FILE', 'Write_File', 'ｗｒｉｔｅ_file', 'write\u200b_file', ' move_file ', 'MOVE_FILE']) {
      const decision = policy.decide(alice, name);
      expect(decision.allowed, name).toBe(false);
      expect(decision.rule).toMatch(/^servers\.fs\.tools\.deny\[[01]\]/);
    }
  });

  it('gives each user the union of the rules that name them', () => {
    expect(policy.decide(alice, 'delete_everything')).toEqual({ allowed: true, rule: 'servers.fs.access[0] (users: alice) "*"' });
    expect(policy.decide(bob, 'read_file')).toEqual({ allowed: true, rule: 'servers.fs.access[1] (teams: acme/readers) "read_*"' });
    expect(policy.decide(bob, 'SEARCH_FILES').allowed).toBe(true);
    expect(policy.decide(bob, 'create_directory')).toEqual({ allowed: false, rule: 'servers.fs.access: no rule naming this user lists the tool' });
    expect(policy.decide(carol, 'read_file')).toEqual({ allowed: false, rule: 'servers.fs.access: no rule names this user' });
  });

  it('a login that differs only in case is the same user; a group header cannot be forged into another shape', () => {
    expect(policy.decide({ ...alice, login: 'alice' }, 'x').allowed).toBe(true);
    expect(policy.decide({ sub: 'x', login: 'mallory', groups: ['team:acme/readers,org:acme'] }, 'read_file').allowed).toBe(false);
  });

  it('without tools or access nothing is filtered', () => {
    const open = createToolPolicy('time', {});
    expect(open.active).toBe(false);
    expect(open.decide(carol, 'anything').allowed).toBe(true);
  });

  it('names the patterns that match no listed tool', () => {
    expect(policy.unmatchedPatterns(['read_file', 'write_file', 'list_directory', 'search_files'])).toEqual(['move_file']);
  });
});

describe('groups a login records', () => {
  it('keeps only the groups rules name, lowercased and sorted; an unverified email proves nothing', () => {
    const named = new Set(['org:acme', 'team:acme/readers', 'domain:example.com']);
    expect(groupsOfUser({ orgs: ['ACME', 'other'], teams: [{ org: 'Acme', slug: 'Readers' }] }, named)).toEqual(['org:acme', 'team:acme/readers']);
    expect(groupsOfUser({ email: 'a@Example.com', emailVerified: true }, named)).toEqual(['domain:example.com']);
    expect(groupsOfUser({ email: 'a@example.com', emailVerified: false }, named)).toEqual([]);
    expect(groupsOfUser({ orgs: ['acme'] }, new Set())).toEqual([]);
  });
});

describe('rate limits', () => {
  it('counts per user on the server and per user per tool, and says when to retry', async () => {
    const limits = createRateLimits(
      'fs',
      { perUser: { count: 5, windowMs: 60_000 }, tools: { search_files: { count: 2, windowMs: 60_000 } } },
      undefined,
      memoryRateCounter(),
    );
    expect(await limits.take(alice, 'search_files')).toBeUndefined();
    expect(await limits.take(alice, 'SEARCH_FILES')).toBeUndefined();
    const third = await limits.take(alice, 'search_files');
    expect(third?.limit).toBe('servers.fs.rateLimit.tools.search_files (2 per 60s)');
    expect(third!.retryAfterMs).toBeGreaterThan(50_000);
    // Another user has counts of their own.
    expect(await limits.take(bob, 'search_files')).toBeUndefined();
    expect(await limits.take(alice, undefined)).toBeUndefined();
    expect(await limits.take(alice, undefined)).toBeUndefined();
    expect((await limits.take(alice, undefined))?.limit).toBe('servers.fs.rateLimit.perUser (5 per 60s)');
  });

  it('falls back to the top-level perUser', async () => {
    const limits = createRateLimits('time', undefined, { count: 1, windowMs: 1000 }, memoryRateCounter());
    expect(await limits.take(alice, undefined)).toBeUndefined();
    expect((await limits.take(alice, undefined))?.limit).toBe('rateLimit.perUser (1 per 1s)');
  });
});

describe('access config', () => {
  const serverWith = (extra: Record<string, unknown>) => ({ servers: { fs: { command: 'node', args: ['x.js'], ...extra } } });
  const refused = (raw: Record<string, unknown>): string => {
    try {
      parseConfig(raw, 'test config');
    } catch (err) {
      return `${(err as Error).message}\n${(err as { hint?: string }).hint ?? ''}`;
    }
    throw new Error('accepted');
  };

  it('accepts the documented shape and types the rates', () => {
    const config = parseConfig(
      base({ ...serverWith({ ...fsServer, rateLimit: { perUser: '120/1m', tools: { search_files: '10/1m' } } }), rateLimit: { perUser: '1000/1h' } }),
      'test config',
    );
    const fs = config.servers['fs'] as { rateLimit?: { perUser?: unknown } };
    expect(fs.rateLimit?.perUser).toEqual({ count: 120, windowMs: 60_000 });
    expect(config.rateLimit?.perUser).toEqual({ count: 1000, windowMs: 3_600_000 });
    expect(config.audit).toBeUndefined();
    // Encoded back as written, for render and init.
    expect(configSchema.encode(config).servers?.['fs']).toMatchObject({ rateLimit: { perUser: '120/1m', tools: { search_files: '10/1m' } } });
  });

  it('refuses an invalid rate with the dotted path and the form', () => {
    const message = refused(base(serverWith({ rateLimit: { perUser: '10/fortnight' } })));
    expect(message).toContain('servers.fs.rateLimit.perUser');
    expect(message).toContain('COUNT/WINDOW');
    expect(refused(base(serverWith({ rateLimit: { perUser: '0/1m' } })))).toContain('not a rate');
    expect(refused(base(serverWith({ rateLimit: { perUser: '10/500ms' } })))).toContain('not a rate');
  });

  it('refuses org and team rules without the GitHub provider, and email domains without OIDC', () => {
    const local = { type: 'local', user: 'alice' };
    const message = refused(base(serverWith({ access: [{ teams: ['acme/readers'], tools: ['*'] }] }), local));
    expect(message).toContain('servers.fs.access.0.teams');
    expect(message).toContain('provider.type: github');
    expect(refused(base(serverWith({ access: [{ emailDomains: ['example.com'], tools: ['*'] }] })))).toContain('servers.fs.access.0.emailDomains');
  });

  it('refuses a rule that names nobody, an empty tool list, control characters and unknown keys', () => {
    expect(refused(base(serverWith({ access: [{ tools: ['*'] }] })))).toContain('names nobody');
    expect(refused(base(serverWith({ access: [{ users: ['alice'], tools: [] }] })))).toContain('at least one tool');
    expect(refused(base(serverWith({ tools: { deny: ['write\nfile'] } })))).toContain('control characters');
    expect(refused(base(serverWith({ tools: { allow: ['x'] } })))).toContain('servers.fs.tools');
    expect(refused(base(serverWith({ access: { users: ['alice'] } })))).toContain('servers.fs.access');
  });
});

describe('mcp-gateway access check', () => {
  let project: { dir: string; remove(): void } | undefined;
  afterEach(() => project?.remove());

  function writeProject(): string {
    project = tempProjectDir();
    const yaml = `publicUrl: https://mcp.example.com
provider:
  type: github
  clientId: Iv1.abc
  teams: [acme/readers]
allowedUsers: [alice]
servers:
  fs:
    command: node
    args: [server.js]
    tools:
      deny: ["write_*", "move_file"]
    access:
      - users: [alice]
        tools: ["*"]
      - teams: [acme/readers]
        tools: ["read_*", "list_*", "search_files"]
`;
    writeFileSync(join(project.dir, 'mcp-gateway.yaml'), yaml);
    return project.dir;
  }

  it('prints allowed and the deciding rule, exit 0', async () => {
    const dir = writeProject();
    const result = await runCli(['access', 'check', '--dir', dir, '--user', 'alice', '--server', 'fs', '--tool', 'delete_file']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('allowed: alice may call "delete_file" on fs');
    expect(result.stdout).toContain('rule: servers.fs.access[0] (users: alice) "*"');
  });

  it('prints denied with the rule, exit 1, for every variant of a denied name', async () => {
    const dir = writeProject();
    const result = await runCli(['access', 'check', '--dir', dir, '--user', 'alice', '--server', 'fs', '--tool', 'ＷＲＩＴＥ_FILE']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('denied:');
    expect(result.stdout).toContain('rule: servers.fs.tools.deny[0] "write_*"');
    expect(result.stderr).toContain('hint: the deciding rule');
  });

  it('takes memberships, and says when the allowlist does not admit the user (--json)', async () => {
    const dir = writeProject();
    const reader = await runCli([
      'access',
      'check',
      '--dir',
      dir,
      '--user',
      'bob',
      '--team',
      'acme/readers',
      '--server',
      'fs',
      '--tool',
      'read_file',
      '--json',
    ]);
    expect(reader.code).toBe(0);
    expect(JSON.parse(reader.stdout)).toMatchObject({ allowed: true, loginAllowed: true, admittedBy: 'team:acme/readers', groups: ['team:acme/readers'] });
    const outsider = await runCli(['access', 'check', '--dir', dir, '--user', 'mallory', '--server', 'fs', '--tool', 'read_file', '--json']);
    expect(outsider.code).toBe(1);
    expect(JSON.parse(outsider.stdout)).toMatchObject({ allowed: false, loginAllowed: false, admittedBy: null });
  });

  it('refuses an unknown server, a malformed team and missing flags with exit 1 or 2', async () => {
    const dir = writeProject();
    const unknown = await runCli(['access', 'check', '--dir', dir, '--user', 'alice', '--server', 'nope', '--tool', 'x']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('configured servers: fs');
    const team = await runCli(['access', 'check', '--dir', dir, '--user', 'a', '--team', 'readers', '--server', 'fs', '--tool', 'x']);
    expect(team.code).toBe(2);
    const missing = await runCli(['access', 'check', '--dir', dir, '--server', 'fs', '--tool', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--user');
  });
});
