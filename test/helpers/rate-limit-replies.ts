import { expect, type TestContext } from 'vitest';
import type { JsonRpcMessage, McpReply } from './mcp-session.js';

/**
 * For the rate-limit tests on Redis: true (and the test skipped) when startRedis found no
 * redis-server; in CI that is an error, never a skip.
 */
export function skipWithoutRedis(redis: { url: string } | { skip: string }, ctx: TestContext, purpose: string): redis is { skip: string } {
  if (!('skip' in redis)) return false;
  const missing = `redis-server not found: install it (apt-get install -y redis-server) to run ${purpose}`;
  if (process.env['CI']) throw new Error(`Redis is required in CI: ${missing}`);
  console.warn(`skipped: ${redis.skip}`);
  ctx.skip();
  return true;
}

/** Over `limit`: HTTP 429 with Retry-After, JSON-RPC -32030 naming the limit in its message and data. */
export function expectLimited({ reply, answer }: { reply: McpReply; answer: JsonRpcMessage }, limit: string): void {
  expect(reply.status).toBe(429);
  expect(reply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(answer.error?.code).toBe(-32030);
  expect(answer.error?.message).toContain(limit);
  expect(answer.error?.data?.['limit']).toBe(limit);
}

/** The call reached the server and got its result. */
export function expectRan({ reply, answer }: { reply: McpReply; answer: JsonRpcMessage }): void {
  expect(reply.status).toBe(200);
  expect(answer.result?.['content']).toBeDefined();
}
