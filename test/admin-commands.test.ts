import { spawn } from 'node:child_process';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientDetail, ClientSummary, GrantSummary, PruneReport, RevokeReport } from '../runtime/auth/admin/admin-types.js';
import { gatewayUrls } from '../runtime/auth/gateway-urls.js';
import { loadConfig } from '../runtime/config/load-config.js';
import { startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';
import { STACK_FRAME, makeTempDir, removeTempDir, runCli, type CliResult, githubInitArgs } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ECHO_FIXTURE } from './helpers/gateway-harness.js';
import { mcpInitialize, obtainTokens, registerClient, tokenRequest, type HasUrls } from './helpers/oauth-flow.js';
import { ServeProcess } from './helpers/serve-process.js';
import { waitForHealth } from './helpers/wait-for-health.js';

/*
 * `mcp-gateway clients` and `tokens` against a real `serve` (GitHub stand-in login): through the
 * admin API while it runs, on the SQLite database once it is stopped (several at once, none of
 * them taken for a gateway), and never behind the back of a live serve that holds the gateway lock.
 */
const USERS = [
  { id: 1001, login: 'alice', name: 'Alice Liddell' },
  { id: 1003, login: 'bob', name: 'Bob' },
];

let github: GitHubStandIn;
let dir: string;
let gw: HasUrls;
let echo: string;
let serve: ServeProcess;

async function startServe(): Promise<void> {
  serve = new ServeProcess(['--dir', dir]);
  await serve.waitFor(/mcp-gateway is ready/);
  await waitForHealth(gw.urls.issuer);
}

function cli(...args: string[]): Promise<CliResult> {
  return runCli([...args, '--dir', dir]);
}

async function cliJson<T>(...args: string[]): Promise<T> {
  const result = await cli(...args, '--json');
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

async function tokensFor(login: string): Promise<{ clientId: string; access_token: string; refresh_token: string }> {
  github.setCurrentUser(login);
  try {
    return await obtainTokens(gw, echo);
  } finally {
    github.setCurrentUser('alice');
  }
}

beforeAll(async () => {
  github = await startGitHubStandIn({ users: USERS });
  dir = await makeTempDir('mcpgw-admin-');
  const publicUrl = `http://127.0.0.1:${await freePort()}`;
  const init = await runCli(githubInitArgs(dir, publicUrl, github.url, 'alice,bob'));
  expect(init.code, init.stderr).toBe(0);
  const add = await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_FIXTURE}"`]);
  expect(add.code, add.stderr).toBe(0);
  gw = { urls: gatewayUrls(await loadConfig(dir)) };
  echo = gw.urls.resourceFor('echo');
  await startServe();
});
afterAll(async () => {
  await serve?.stop('SIGKILL');
  await github?.close();
  if (dir) await removeTempDir(dir);
});

describe('with serve running (admin API)', () => {
  it('serve created the admin token, 0600', async () => {
    const path = join(dir, '.secrets', 'admin-token');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path, 'utf8')).trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('clients list shows registered clients, as a table and as JSON', async () => {
    const registered = await registerClient(gw, { client_name: 'Listed Client' });
    const table = await cli('clients', 'list');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^CLIENT ID\s+NAME\s+REGISTERED/m);
    expect(table.stdout).toContain(registered.client_id);
    expect(table.stdout).toContain('Listed Client');
    const { clients } = await cliJson<{ clients: ClientSummary[] }>('clients', 'list');
    expect(clients.find((c) => c.clientId === registered.client_id)).toMatchObject({ clientName: 'Listed Client', activeGrants: 0, lastUsedAt: null });
  });

  it('clients show prints one client with its grants; an unknown id is exit 1 with a hint', async () => {
    const tokens = await tokensFor('alice');
    const { client } = await cliJson<{ client: ClientDetail }>('clients', 'show', tokens.clientId);
    expect(client).toMatchObject({ clientId: tokens.clientId, activeGrants: 1 });
    expect(client.grants[0]).toMatchObject({ user: 'alice', resource: echo, revoked: false });
    const human = await cli('clients', 'show', tokens.clientId);
    expect(human.stdout).toContain(`client ${tokens.clientId}`);
    expect(human.stdout).toContain(client.grants[0]!.familyId);
    const unknown = await cli('clients', 'show', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no registered client "nobody"/);
    expect(unknown.stderr).toMatch(/^hint: /m);
    expect(unknown.stderr).not.toMatch(STACK_FRAME);
  });

  it('tokens list filters by user and by client', async () => {
    const alice = await tokensFor('alice');
    const bob = await tokensFor('bob');
    const byUser = (await cliJson<{ grants: GrantSummary[] }>('tokens', 'list', '--user', 'Bob')).grants;
    expect(byUser.length).toBeGreaterThanOrEqual(1);
    expect(byUser.every((g) => g.user === 'bob')).toBe(true);
    const byClient = (await cliJson<{ grants: GrantSummary[] }>('tokens', 'list', '--client', alice.clientId)).grants;
    expect(byClient.map((g) => g.user)).toEqual(['alice']);
    const table = await cli('tokens', 'list', '--client', bob.clientId);
    expect(table.stdout).toMatch(/^GRANT\s+USER\s+CLIENT\s+RESOURCE/m);
    expect(table.stdout).toMatch(/bob .* active/);
  });

  it("tokens revoke --user ends the user's access and refresh tokens at once, and leaves others alone", async () => {
    const alice = await tokensFor('alice');
    const bob = await tokensFor('bob');
    expect((await mcpInitialize(echo, alice.access_token)).status).toBe(200);
    const revoked = await cli('tokens', 'revoke', '--user', 'alice');
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked \d+ grants?/);
    expect((await mcpInitialize(echo, alice.access_token)).status).toBe(401);
    const refresh = await tokenRequest(gw, { grant_type: 'refresh_token', refresh_token: alice.refresh_token, client_id: alice.clientId });
    expect(refresh.body['error']).toBe('invalid_grant');
    expect((await mcpInitialize(echo, bob.access_token)).status).toBe(200);
    // The gateway's audit log names the operator's revocation.
    expect(serve.stderr).toMatch(/"event":"family_revoked".*"by":"operator"/);
  });

  it("tokens revoke --client ends that client's grants only; --json parses", async () => {
    const first = await tokensFor('bob');
    const second = await tokensFor('bob');
    const report = await cliJson<RevokeReport>('tokens', 'revoke', '--client', first.clientId);
    expect(report.revoked).toHaveLength(1);
    expect((await mcpInitialize(echo, first.access_token)).status).toBe(401);
    expect((await mcpInitialize(echo, second.access_token)).status).toBe(200);
  });

  it('refuses a bare tokens revoke as a usage error (exit 2)', async () => {
    const result = await cli('tokens', 'revoke');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--user LOGIN, --client ID or --family ID/);
  });

  it("clients remove revokes the client's grants and forgets it", async () => {
    const tokens = await tokensFor('bob');
    const removed = await cli('clients', 'remove', tokens.clientId);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(new RegExp(`^removed client ${tokens.clientId} \\(negative tests\\); revoked 1 grant$`, 'm'));
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(401);
    const { clients } = await cliJson<{ clients: ClientSummary[] }>('clients', 'list');
    expect(clients.map((c) => c.clientId)).not.toContain(tokens.clientId);
  });

  it('clients prune --unused-for removes clients never used, after a dry run that removes nothing', async () => {
    const used = await tokensFor('bob');
    const unused = await registerClient(gw, { client_name: 'Never Used' });
    await new Promise((r) => setTimeout(r, 2_100));
    const dry = await cliJson<PruneReport>('clients', 'prune', '--unused-for', '1s', '--dry-run');
    expect(dry.dryRun).toBe(true);
    expect(dry.clients.map((c) => c.clientId)).toContain(unused.client_id);
    expect(dry.clients.map((c) => c.clientId)).not.toContain(used.clientId);
    const human = await cli('clients', 'prune', '--unused-for', '1s');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`removed ${unused.client_id} (Never Used): never used`);
    const { clients } = await cliJson<{ clients: ClientSummary[] }>('clients', 'list');
    expect(clients.map((c) => c.clientId)).not.toContain(unused.client_id);
    expect(clients.map((c) => c.clientId)).toContain(used.clientId);
    expect((await cli('clients', 'prune', '--unused-for', 'soon')).code).toBe(2);
  });

  it('works through --url, and its admin API refuses strangers (audited), without a 5xx', async () => {
    const viaUrl = await runCli(['clients', 'list', '--json', '--dir', dir, '--url', gw.urls.issuer]);
    expect(viaUrl.code, viaUrl.stderr).toBe(0);
    expect(JSON.parse(viaUrl.stdout)).toHaveProperty('clients');
    expect((await fetch(`${gw.urls.issuer}/admin/clients`)).status).toBe(401);
    expect((await fetch(`${gw.urls.issuer}/admin/clients`, { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(401);
    const malformed = await fetch(`${gw.urls.issuer}/admin/grants/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(await readFile(join(dir, '.secrets', 'admin-token'), 'utf8')).trim()}`, 'content-type': 'application/json' },
      body: '{"user":',
    });
    expect(malformed.status).toBe(400);
    expect(serve.stderr).toMatch(/"event":"admin_denied"/);
  });

  it('leaves the database to serve: a second serve of the project is refused naming the holder', async () => {
    const second = new ServeProcess(['--dir', dir]);
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`in use by process ${serve.child.pid}`));
    expect(second.stderr).toMatch(/^hint: /m);
  });
});

describe('with serve stopped (the database directly)', () => {
  let keptId: string;
  let removableId: string;
  const databasePath = (): string => join(dir, '.mcp-gateway', 'store.sqlite');
  const lockPath = (): string => `${databasePath()}.gateway.lock`;

  beforeAll(async () => {
    keptId = (await registerClient(gw, { client_name: 'Survives Restart' })).client_id;
    removableId = (await registerClient(gw, { client_name: 'Removed Offline' })).client_id;
    const { code } = await serve.stop('SIGTERM');
    expect(code).toBe(0);
  });

  it('serve released its lock on exit', async () => {
    await expect(stat(lockPath())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('lists and removes clients on the database, and a restarted serve sees the change', async () => {
    const removable = removableId;
    const listed = await cli('clients', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toMatch(/no gateway is running: working on the database .*store\.sqlite/);
    const ids = (JSON.parse(listed.stdout) as { clients: ClientSummary[] }).clients.map((c) => c.clientId);
    expect(ids).toEqual(expect.arrayContaining([keptId, removable]));
    const removed = await cli('clients', 'remove', removable);
    expect(removed.code, removed.stderr).toBe(0);
    await expect(stat(lockPath())).rejects.toMatchObject({ code: 'ENOENT' });
    const grants = await cliJson<{ grants: GrantSummary[] }>('tokens', 'list', '--user', 'alice');
    expect(grants.grants.every((g) => g.revoked)).toBe(true);

    await startServe();
    try {
      const after = (await cliJson<{ clients: ClientSummary[] }>('clients', 'list')).clients.map((c) => c.clientId);
      expect(after).toContain(keptId);
      expect(after).not.toContain(removable);
    } finally {
      expect((await serve.stop('SIGTERM')).code).toBe(0);
    }
  });

  it('runs several commands on the database at once, none of them taken for a gateway, and serve starts beside one', async () => {
    const results = await Promise.all([
      cli('clients', 'list', '--json'),
      cli('tokens', 'list', '--json'),
      cli('clients', 'list', '--json'),
      cli('tokens', 'list', '--user', 'bob', '--json'),
      cli('clients', 'show', keptId, '--json'),
      cli('clients', 'prune', '--unused-for', '365d', '--dry-run', '--json'),
    ]);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/no gateway is running: working on the database/);
    }
    await expect(stat(lockPath())).rejects.toMatchObject({ code: 'ENOENT' });
    // A serve starting while an admin command has the database open is not refused.
    const listing = cli('clients', 'list', '--json');
    await startServe();
    try {
      expect((await listing).code).toBe(0);
    } finally {
      expect((await serve.stop('SIGTERM')).code).toBe(0);
    }
  });

  it('never opens a database whose gateway lock a live process holds', async () => {
    // This test process stands in for a serve that does not answer at the public URL.
    await writeFile(lockPath(), JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), { mode: 0o600 });
    try {
      const result = await cli('clients', 'remove', keptId);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`a gateway (process ${process.pid}) serves`);
      expect(result.stderr).toMatch(/hint: pass --url/);
      const blocked = new ServeProcess(['--dir', dir]);
      expect((await blocked.exited).code).toBe(1);
      expect(blocked.stderr).toContain(`in use by process ${process.pid}`);
    } finally {
      await rm(lockPath(), { force: true });
    }
    const listed = await cliJson<{ clients: ClientSummary[] }>('clients', 'list');
    expect(listed.clients.map((c) => c.clientId)).toContain(keptId);
  });

  it('ignores a stale gateway lock left by a serve that was killed, and the next serve takes it over', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.on('exit', r));
    await writeFile(lockPath(), JSON.stringify({ pid: dead.pid }), { mode: 0o600 });
    const result = await cli('clients', 'list', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { clients: ClientSummary[] }).clients.map((c) => c.clientId)).toContain(keptId);
    await startServe();
    try {
      expect(JSON.parse(await readFile(lockPath(), 'utf8'))).toMatchObject({ pid: serve.child.pid });
    } finally {
      expect((await serve.stop('SIGTERM')).code).toBe(0);
    }
    await expect(stat(lockPath())).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
