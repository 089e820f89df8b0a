import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../runtime/store/redis-store.js';
import { ALICE, BOB_READER, fileToolsServer, startAccessGateway, toolJournal, type AccessGateway, type TestUser } from './helpers/access-gateway.js';
import { RawMcpSession } from './helpers/mcp-session.js';
import { expectLimited, expectRan, skipWithoutRedis } from './helpers/rate-limit-replies.js';
import { startRedis } from './helpers/redis-server.js';

/*
 * Rate limits on `store: redis` are counted in Redis, so two gateways sharing one Redis share
 * the counts: what one let through, the other counts against the same limit. Each gateway here
 * has its own Redis connection and its own memory (and the counter's in-memory fallback): if
 * the counts were not in Redis, the second gateway would let every call through.
 */

describe('rate limits shared by two gateways on one Redis', () => {
  let redis: { url: string; stop(): Promise<void> } | { skip: string };
  const keyPrefix = `mcpgw-access-${randomBytes(6).toString('hex')}:`;
  const journal = toolJournal();
  const gateways: AccessGateway[] = [];
  const sessions: RawMcpSession[] = [];

  beforeAll(async () => {
    // In CI a missing redis-server throws here, failing every test below.
    redis = await startRedis();
    if ('skip' in redis) return;
    const url = redis.url;
    const config = {
      store: { type: 'redis', url },
      servers: {
        tool: fileToolsServer(journal, { rateLimit: { tools: { search_files: '3/1m' } } }),
        user: fileToolsServer(journal, { rateLimit: { perUser: '6/1m' } }),
      },
    };
    for (let i = 0; i < 2; i++) gateways.push(await startAccessGateway(config, { store: await createRedisStore({ url, keyPrefix }) }));
  });
  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => s.close()));
    await Promise.allSettled(gateways.map((g) => g.close()));
    if (redis !== undefined && !('skip' in redis)) await redis.stop();
    journal.remove();
  });

  async function session(gw: AccessGateway, server: string, user: TestUser): Promise<RawMcpSession> {
    const s = await RawMcpSession.open(gw.urls.resourceFor(server), await gw.token(server, user));
    sessions.push(s);
    return s;
  }

  it('counts a per-tool limit across both gateways, per user', async (ctx) => {
    if (skipWithoutRedis(redis, ctx, 'the shared rate-limit tests')) return;
    const [a, b] = gateways as [AccessGateway, AccessGateway];
    const onA = await session(a, 'tool', ALICE);
    const onB = await session(b, 'tool', ALICE);
    expectRan(await onA.callTool('search_files', { path: '1' }));
    expectRan(await onB.callTool('search_files', { path: '2' }));
    expectRan(await onA.callTool('search_files', { path: '3' }));
    const limit = 'servers.tool.rateLimit.tools.search_files (3 per 60s)';
    expectLimited(await onB.callTool('search_files', { path: '4' }), limit);
    expectLimited(await onA.callTool('search_files', { path: '5' }), limit);
    // Other tools are not under that limit, and bob has a count of his own on either gateway.
    expectRan(await onB.callTool('read_file', { path: 'x' }));
    expectRan(await (await session(b, 'tool', BOB_READER)).callTool('search_files', { path: 'bob' }));
    expectRan(await (await session(a, 'tool', BOB_READER)).callTool('search_files', { path: 'bob' }));
    expect(journal.calls().filter((name) => name === 'search_files')).toHaveLength(5); // alice 3, bob 2
    expect(
      a
        .audit()
        .concat(b.audit())
        .filter((line) => line['outcome'] === 'limited'),
    ).toHaveLength(2);
  });

  it('counts perUser across both gateways, tools/list included', async (ctx) => {
    if (skipWithoutRedis(redis, ctx, 'the shared rate-limit tests')) return;
    const [a, b] = gateways as [AccessGateway, AccessGateway];
    // The two initializes count too: 2 of 6.
    const onA = await session(a, 'user', ALICE);
    const onB = await session(b, 'user', ALICE);
    expectRan(await onA.callTool('read_file', { path: '1' }));
    expect((await onB.send('tools/list')).reply.status).toBe(200);
    expectRan(await onA.callTool('list_directory', { path: '/' }));
    expectRan(await onB.callTool('read_file', { path: '2' }));
    const limit = 'servers.user.rateLimit.perUser (6 per 60s)';
    expectLimited(await onA.send('tools/list'), limit);
    expectLimited(await onB.callTool('read_file', { path: '3' }), limit);
    expectRan(await (await session(a, 'user', BOB_READER)).callTool('read_file', { path: 'bob' }));
  });

  it('keeps the counts in Redis under the store prefix', async (ctx) => {
    if (skipWithoutRedis(redis, ctx, 'the shared rate-limit tests')) return;
    const client = new Redis((redis as { url: string }).url, { lazyConnect: true });
    await client.connect();
    try {
      const keys = await client.keys(`${keyPrefix}rate:*`);
      // search_files 3/1m (alice, bob) and perUser 6/1m (alice, bob), at least.
      expect(keys.length).toBeGreaterThanOrEqual(4);
      for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });
});
