import { describe, expect, it } from 'vitest';
import { createRecentAudit } from '../runtime/logging/recent-audit.js';
import { GatewayMetrics } from '../runtime/metrics/gateway-metrics.js';
import { createMetricsSummary, quantile } from '../runtime/metrics/metrics-summary.js';

describe('the admin summary of the metrics (metrics-summary.ts)', () => {
  it('interpolates inside the bucket as histogram_quantile does, and says null without observations', () => {
    expect(quantile(0.5, [])).toBeNull();
    expect(
      quantile(0.5, [
        [0.005, 0],
        [Number.POSITIVE_INFINITY, 0],
      ]),
    ).toBeNull();
    // Two calls of 3 and 4 ms both fall in (0, 5 ms]: Prometheus says 2.5 ms for the median.
    expect(
      quantile(0.5, [
        [0.005, 2],
        [0.01, 2],
        [Number.POSITIVE_INFINITY, 2],
      ]),
    ).toBe(2.5);
    // In the +Inf bucket: the highest finite bound.
    expect(
      quantile(0.99, [
        [0.005, 0],
        [0.01, 0],
        [Number.POSITIVE_INFINITY, 3],
      ]),
    ).toBe(10);
  });

  it('counts calls per second over about the last minute, not since start', async () => {
    let now = 0;
    const metrics = new GatewayMetrics({ defaults: false });
    const summary = createMetricsSummary(metrics.registry, { now: () => now });
    for (let i = 0; i < 10; i++) metrics.toolCall('echo', 'echo', 'ok', 3);
    metrics.overhead(0.0003);
    now = 10_000;
    expect(await summary.read()).toEqual({
      windowSeconds: 10,
      toolCalls: 10,
      callsPerSecond: 1,
      toolCallMs: { p50: 2.5, p99: 4.95 },
      overheadMs: { p50: 0.375, p99: 0.498 },
    });
    now = 80_000;
    metrics.toolCall('echo', 'echo', 'denied', 0);
    // The reading at 10 s is the newest one a minute old: only the denied call is new.
    const later = await summary.read();
    expect(later).toMatchObject({ windowSeconds: 70, toolCalls: 1, toolCallMs: { p50: null, p99: null }, overheadMs: { p50: null } });
  });
});

describe('the recent audit events (recent-audit.ts)', () => {
  it('keeps the newest events up to its capacity, newest first, filtered by event, user and server', () => {
    let now = 0;
    const recent = createRecentAudit({ capacity: 3, now: () => now++ });
    recent.record('login_succeeded', { login: 'alice', sub: 'github:1', clientId: 'c1' });
    recent.record('tool_call', { server: 'echo', tool: 'echo', login: 'alice', sub: 'github:1' });
    recent.record('tool_call', { server: 'fs', tool: 'read', login: 'bob', sub: 'github:2' });
    recent.record('login_denied', { login: 'mallory', reason: 'not on the allowlist' });
    expect(recent.size).toBe(3);
    expect(recent.list().map((e) => e.event)).toEqual(['login_denied', 'tool_call', 'tool_call']);
    expect(recent.list({ server: 'fs' }).map((e) => e.user)).toEqual(['bob']);
    expect(recent.list({ user: 'GITHUB:1' }).map((e) => e.server)).toEqual(['echo']);
    expect(recent.list({ event: 'login_denied' })[0]).toEqual({
      at: new Date(3).toISOString(),
      event: 'login_denied',
      user: 'mallory',
      server: null,
      fields: { reason: 'not on the allowlist' },
    });
    expect(recent.events()).toEqual(['login_denied', 'tool_call']);
  });

  it('cuts long values and keeps only plain values of sane field names', () => {
    const recent = createRecentAudit();
    recent.record('client_registered', { clientName: 'x'.repeat(10_000), arguments: { secret: 1 }, 'bad key\n': 'v', ok: true, n: 1 });
    const [entry] = recent.list();
    expect(String(entry!.fields['clientName']).length).toBe(301);
    expect(entry!.fields).not.toHaveProperty('arguments');
    expect(Object.keys(entry!.fields).sort()).toEqual(['clientName', 'n', 'ok']);
  });
});
