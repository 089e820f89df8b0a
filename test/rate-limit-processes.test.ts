import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { FILE_TOOLS_FIXTURE, toolJournal } from './helpers/access-gateway.js';
import { makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { RawMcpSession } from './helpers/mcp-session.js';
import { expectLimited, expectRan, skipWithoutRedis } from './helpers/rate-limit-replies.js';
import { startRedis } from './helpers/redis-server.js';
import { ServeProcess } from './helpers/serve-process.js';

/*
 * Issue 14: per-user rate limits hold on `store: redis` with two gateway processes sharing one
 * Redis. Two real `mcp-gateway serve` processes of one project directory (the embedded store's
 * gateway lock forbids that; Redis takes none, see runtime/project-gateway.ts), so they read the
 * same config and `.secrets/signing-keys.json`, and `token issue` tokens work on both. Each has
 * its own memory (and the counter's in-memory fallback): if the counts were not in Redis, the
 * process that had not seen the earlier calls would let the call over the limit through.
 */

const TOOL_LIMIT = 'servers.files.rateLimit.tools.search_files (2 per 60s)';
const USER_LIMIT = 'servers.files.rateLimit.perUser (6 per 60s)';
/** The address a load balancer in front of both processes would answer on (the tokens' audience); nothing listens there. */
const PUBLIC_URL = 'http://127.0.0.1:18080';

/** The `tool_call` audit lines a serve wrote (JSON logs on stderr). */
function auditOf(serve: ServeProcess): Array<Record<string, unknown>> {
  return serve.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line['event'] === 'tool_call');
}

describe('rate limits shared by two serve processes on one Redis', () => {
  let redis: { url: string; stop(): Promise<void> } | { skip: string };
  let dir: string | undefined;
  const journal = toolJournal();
  const serves: ServeProcess[] = [];
  /** Where each serve listens: 127.0.0.1:0, the port it printed. */
  const endpoints: string[] = [];
  const tokens = new Map<string, string>();
  const sessions: RawMcpSession[] = [];

  beforeAll(async () => {
    // In CI a missing redis-server throws here, failing every test below.
    redis = await startRedis();
    if ('skip' in redis) return;
    const project = await makeTempDir('mcpgw-rate-processes-');
    dir = project;
    // The operator's steps: init, add-server, then the store and the limits in mcp-gateway.yaml.
    const init = await runCli(['init', '--dir', project, '--yes', '--provider', 'local', '--public-url', PUBLIC_URL, '--allowed-users', 'alice,bob,carol']);
    expect(init.code, init.stderr).toBe(0);
    const add = await runCli([
      ...['add-server', 'files', '--dir', project, '--command', `"${process.execPath}" "${FILE_TOOLS_FIXTURE}"`],
      ...['--env', `TOOL_JOURNAL=${journal.path}`, '--mount', journal.dir],
    ]);
    expect(add.code, add.stderr).toBe(0);
    const configFile = join(project, 'mcp-gateway.yaml');
    const config = parseDocument(await readFile(configFile, 'utf8'));
    // A prefix of its own: REDIS_URL may name a Redis other suites use too.
    config.set('store', { type: 'redis', url: redis.url, keyPrefix: `mcpgw-processes-${randomBytes(6).toString('hex')}:` });
    config.setIn(['servers', 'files', 'rateLimit'], { perUser: '6/1m', tools: { search_files: '2/1m' } });
    config.set('shutdownGrace', '2s');
    await writeFile(configFile, config.toString());

    // `token issue` needs only the config and the signing key: it runs while the serves start.
    const users = ['alice', 'bob', 'carol'];
    const issuing = Promise.all(users.map((user) => runCli(['token', 'issue', '--dir', project, '--user', user, '--server', 'files', '--ttl', '5m'])));
    // One after the other: the first serve of a fresh project creates .secrets/state-key and admin-token.
    for (let i = 0; i < 2; i++) {
      const serve = new ServeProcess(['--dir', project, '--listen', '127.0.0.1:0', '--log-format', 'json']);
      serves.push(serve);
      const [, port] = await serve.waitFor(/mcp-gateway is ready on 127\.0\.0\.1:(\d+)/);
      endpoints.push(`http://127.0.0.1:${port}/files/mcp`);
    }
    for (const [index, result] of (await issuing).entries()) {
      expect(result.code, result.stderr).toBe(0);
      tokens.set(users[index]!, result.stdout.trim().split('\n').at(-1)!);
    }
  });
  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => s.close()));
    await Promise.allSettled(serves.map((s) => s.stop()));
    if (dir !== undefined) await removeTempDir(dir);
    if (redis !== undefined && !('skip' in redis)) await redis.stop();
    journal.remove();
  });

  /** A session of `user` on serve process 0 or 1; its initialize counts against perUser. */
  async function session(which: 0 | 1, user: string): Promise<RawMcpSession> {
    const s = await RawMcpSession.open(endpoints[which]!, tokens.get(user)!);
    sessions.push(s);
    return s;
  }

  it('refuses the call over a per-tool limit on whichever process gets it, before any child, per user', async (ctx) => {
    if (skipWithoutRedis(redis, ctx, 'the two-process rate-limit tests')) return;
    const onA = await session(0, 'alice');
    const onB = await session(1, 'alice');
    expectRan(await onA.callTool('search_files', { path: '1' }));
    expectRan(await onB.callTool('search_files', { path: '2' }));
    expectLimited(await onA.callTool('search_files', { path: '3' }), TOOL_LIMIT);
    expectLimited(await onB.callTool('search_files', { path: '4' }), TOOL_LIMIT);
    // bob's count is his own, on either process; his third call is refused too.
    const bobOnB = await session(1, 'bob');
    const bobOnA = await session(0, 'bob');
    expectRan(await bobOnB.callTool('search_files', { path: 'bob-1' }));
    expectRan(await bobOnA.callTool('search_files', { path: 'bob-2' }));
    expectLimited(await bobOnB.callTool('search_files', { path: 'bob-3' }), TOOL_LIMIT);

    // Only the calls let through reached a child: alice 2, bob 2.
    expect(journal.calls().filter((name) => name === 'search_files')).toHaveLength(4);
    const [a, b] = serves as [ServeProcess, ServeProcess];
    const limited = (serve: ServeProcess) => auditOf(serve).filter((line) => line['outcome'] === 'limited');
    expect(limited(a).map((line) => line['login'])).toEqual(['alice']);
    expect(limited(b).map((line) => line['login'])).toEqual(['alice', 'bob']);
    for (const line of [...limited(a), ...limited(b)]) expect(line['reason']).toBe(TOOL_LIMIT);
  });

  it('counts every request against perUser across both processes, tools/list included', async (ctx) => {
    if (skipWithoutRedis(redis, ctx, 'the two-process rate-limit tests')) return;
    const before = journal.entries().length;
    // The two initializes count: 2 of 6.
    const onA = await session(0, 'carol');
    const onB = await session(1, 'carol');
    expect((await onA.send('tools/list')).reply.status).toBe(200);
    expectRan(await onB.callTool('read_file', { path: '1' }));
    expectRan(await onA.callTool('list_directory', { path: '/' }));
    expectRan(await onB.callTool('read_file', { path: '2' }));
    expectLimited(await onA.callTool('read_file', { path: '3' }), USER_LIMIT);
    expectLimited(await onB.send('tools/list'), USER_LIMIT);
    // What reached a child: 2 initialize, 1 tools/list, 3 tools/call (no notification is counted or refused).
    const reached = journal
      .entries()
      .slice(before)
      .map((entry) => entry.name ?? entry.method)
      .filter((name) => !name.startsWith('notifications/'));
    expect(reached.sort()).toEqual(['initialize', 'initialize', 'list_directory', 'read_file', 'read_file', 'tools/list']);
  });
});
