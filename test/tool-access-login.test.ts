import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamLogin } from '../runtime/auth/upstream/create-upstream-login.js';
import type { StandInUser } from './github-stand-in/github-stand-in.js';
import { fileToolsServer, toolJournal } from './helpers/access-gateway.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { RawMcpSession } from './helpers/mcp-session.js';
import { obtainTokens, tokenRequest } from './helpers/oauth-flow.js';

/*
 * Groups for access rules, end to end: the GitHub login (stand-in) proves memberships, the grant
 * records the ones the rules name, the access token carries them (`grp`), /verify hands them to
 * the bridge, and a refresh past the membership freshness window asks GitHub again. The login is
 * built by createUpstreamLogin, as `serve` builds it, so the scope it asks for is the product's.
 */

const MEMBERSHIP_FRESH_MS = 5 * 60_000;

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const productLogin = (config: Parameters<typeof createUpstreamLogin>[0], store: Parameters<typeof createUpstreamLogin>[1]['store']) =>
  createUpstreamLogin(config, { store, clientSecret: 'test-client-secret', announceLoginCode: () => {} });

/** The scope the gateway sent the browser to GitHub with, at its last authorize. */
function lastAuthorizeScope(h: GatewayHarness): string {
  const authorize = h.github.requests.filter((request) => request.path === '/login/oauth/authorize').at(-1);
  if (authorize === undefined) throw new Error('the browser never reached GitHub');
  return new URL(authorize.url, 'http://stand-in').searchParams.get('scope') ?? '';
}

const teamRequests = (h: GatewayHarness): number => h.github.requests.filter((request) => request.path.endsWith('/user/teams')).length;

describe('team memberships for access rules, through the OAuth flow', () => {
  let h: GatewayHarness;
  const journal = toolJournal();
  const alice: StandInUser = {
    id: 1001,
    login: 'alice',
    orgs: ['acme', 'globex'],
    teams: [
      { org: 'acme', slug: 'readers' },
      { org: 'acme', slug: 'platform' },
    ],
  };
  const bob: StandInUser = { id: 1002, login: 'bob', orgs: ['acme'], teams: [{ org: 'acme', slug: 'platform' }] };
  let readerTools: string[];

  beforeAll(async () => {
    h = await startGatewayHarness(
      {
        allowedUsers: ['alice', 'bob'],
        servers: {
          fs: fileToolsServer(journal, {
            tools: { deny: ['write_*'] },
            access: [{ teams: ['acme/readers'], tools: ['read_*', 'list_*', 'search_files'] }],
          }),
        },
      },
      { githubUsers: [alice, bob], upstream: productLogin },
    );
  });
  afterAll(async () => {
    await h?.close();
    journal.remove();
  });

  async function toolsWith(token: string): Promise<string[]> {
    const session = await RawMcpSession.open(h.urls.resourceFor('fs'), token);
    try {
      return await session.listTools();
    } finally {
      await session.close();
    }
  }

  it('asks GitHub for read:org, records only the team the rules name, and the member sees its tools', async () => {
    h.github.setCurrentUser('alice');
    const tokens = await obtainTokens(h, h.urls.resourceFor('fs'));
    expect(lastAuthorizeScope(h).split(' ')).toContain('read:org');
    const claims = claimsOf(tokens.access_token);
    expect(claims['login']).toBe('alice');
    // Not org:acme, org:globex or team:acme/platform: no rule names them.
    expect(claims['grp']).toEqual(['team:acme/readers']);
    readerTools = await toolsWith(tokens.access_token);
    expect(readerTools.length).toBeGreaterThan(0);
    expect(readerTools.every((name) => name.startsWith('read_') || name.startsWith('list_') || name === 'search_files')).toBe(true);
    expect(readerTools).toEqual(expect.arrayContaining(['read_file', 'list_directory', 'search_files']));
  });

  it('gives a user outside the team no group and no tools', async () => {
    h.github.setCurrentUser('bob');
    const tokens = await obtainTokens(h, h.urls.resourceFor('fs'));
    const claims = claimsOf(tokens.access_token);
    expect(claims['login']).toBe('bob');
    expect(claims).not.toHaveProperty('grp');
    expect(await toolsWith(tokens.access_token)).toEqual([]);
    const session = await RawMcpSession.open(h.urls.resourceFor('fs'), tokens.access_token);
    const { answer } = await session.callTool('read_file', { path: 'x' });
    expect(answer.error?.code).toBe(-32602);
    await session.close();
    expect(journal.calls()).toEqual([]);
  });

  it('takes the group away at the first refresh past the freshness window after GitHub drops the membership', async () => {
    h.github.setCurrentUser('alice');
    const first = await obtainTokens(h, h.urls.resourceFor('fs'));
    expect(claimsOf(first.access_token)['grp']).toEqual(['team:acme/readers']);
    alice.teams = (alice.teams ?? []).filter((team) => team.slug !== 'readers');

    // Inside the window the recorded groups stand, and GitHub is not asked.
    const asked = teamRequests(h);
    const soon = await tokenRequest(h, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: first.clientId,
      resource: h.urls.resourceFor('fs'),
    });
    expect(soon.status).toBe(200);
    expect(claimsOf(String(soon.body['access_token']))['grp']).toEqual(['team:acme/readers']);
    expect(teamRequests(h)).toBe(asked);

    h.advance(MEMBERSHIP_FRESH_MS + 60_000);
    const later = await tokenRequest(h, {
      grant_type: 'refresh_token',
      refresh_token: String(soon.body['refresh_token']),
      client_id: first.clientId,
      resource: h.urls.resourceFor('fs'),
    });
    expect(later.status).toBe(200);
    expect(teamRequests(h)).toBeGreaterThan(asked);
    const token = String(later.body['access_token']);
    expect(claimsOf(token)['login']).toBe('alice');
    expect(claimsOf(token)).not.toHaveProperty('grp');
    expect(await toolsWith(token)).toEqual([]);
  });
});

describe('a GitHub login when no access rule names an org or team', () => {
  let h: GatewayHarness;
  const journal = toolJournal();

  beforeAll(async () => {
    h = await startGatewayHarness(
      { servers: { fs: fileToolsServer(journal, { access: [{ users: ['alice'], tools: ['read_*'] }] }) } },
      { upstream: productLogin },
    );
  });
  afterAll(async () => {
    await h?.close();
    journal.remove();
  });

  it('asks for no read:org and records no groups; users: rules still apply', async () => {
    const tokens = await obtainTokens(h, h.urls.resourceFor('fs'));
    expect(lastAuthorizeScope(h).split(' ')).not.toContain('read:org');
    expect(claimsOf(tokens.access_token)).not.toHaveProperty('grp');
    expect(h.github.requests.filter((request) => request.path.endsWith('/user/teams') || request.path.endsWith('/user/orgs'))).toEqual([]);
    const session = await RawMcpSession.open(h.urls.resourceFor('fs'), tokens.access_token);
    expect(await session.listTools()).toEqual(['read_file']);
    await session.close();
  });
});
