import { describe, expect, it } from 'vitest';
import { planDeployment } from '../cli/deploy/deploy-plan.js';
import { parseDeployTarget } from '../cli/deploy/deploy-target.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { isGatewayError } from '../runtime/errors.js';

const REDIS = { type: 'redis', url: 'redis://127.0.0.1:6379/0' };

function config(fields: Record<string, unknown>) {
  return {
    publicUrl: 'https://mcp.example.com',
    provider: { type: 'local', user: 'alice' },
    allowedUsers: ['alice'],
    deploy: { router: 'builtin' },
    servers: { echo: { command: 'node', args: ['echo.mjs'] }, remote: { url: 'https://remote.example/mcp' } },
    ...fields,
  };
}

function refusal(run: () => unknown): { code: string; message: string; hint: string | undefined } {
  try {
    run();
  } catch (err) {
    if (isGatewayError(err)) return { code: err.code, message: err.message, hint: err.hint };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('replicas in the config (servers.NAME.replicas, deploy.replicas, deploy.drainPeriod)', () => {
  it('defaults to one of everything and a 30 s drain', () => {
    const parsed = parseConfig(config({}), 'test');
    const plan = planDeployment(parsed, '/srv/gw');
    expect(plan.replicas).toEqual({ auth: 1, router: 1 });
    expect(plan.drainMs).toBe(30_000);
    expect(plan.bridges.map((b) => b.replicas)).toEqual([1, 1]);
    expect(plan.target).toBe('compose');
  });

  it('takes counts for servers, auth and the router with store: redis', () => {
    const parsed = parseConfig(
      config({
        store: REDIS,
        deploy: { router: 'builtin', replicas: { auth: 2, router: 3 }, drainPeriod: '2m' },
        servers: { echo: { command: 'node', replicas: 4 }, remote: { url: 'https://remote.example/mcp', replicas: 2 }, demo: { builtin: 'demo', replicas: 2 } },
      }),
      'test',
    );
    const plan = planDeployment(parsed, '/srv/gw', 'swarm');
    expect(plan.replicas).toEqual({ auth: 2, router: 3 });
    expect(plan.drainMs).toBe(120_000);
    expect(Object.fromEntries(plan.bridges.map((b) => [b.server, b.replicas]))).toEqual({ demo: 2, echo: 4, remote: 2 });
  });

  it('refuses more than one replica anywhere without store: redis, naming the key and the fix', () => {
    for (const fields of [
      { deploy: { router: 'builtin', replicas: { auth: 2 } } },
      { deploy: { router: 'builtin', replicas: { router: 2 } } },
      { servers: { echo: { command: 'node', replicas: 2 } } },
      { servers: { remote: { url: 'https://remote.example/mcp', replicas: 3 } } },
    ]) {
      const { code, message } = refusal(() => parseConfig(config(fields), 'mcp-gateway.yaml'));
      expect(code).toBe('ERR_CONFIG_INVALID');
      expect(message).toMatch(/replicas/);
      expect(message).toMatch(/store: redis/);
    }
    // One replica is fine on the embedded store.
    expect(() => parseConfig(config({ servers: { echo: { command: 'node', replicas: 1 } } }), 'test')).not.toThrow();
  });

  it('refuses counts that are not whole numbers from 1 to 64, and replicas on an aggregate', () => {
    for (const replicas of [0, -1, 1.5, 65, '2', null]) {
      expect(() => parseConfig(config({ store: REDIS, servers: { echo: { command: 'node', replicas } } }), 'test')).toThrow(/replicas/);
    }
    expect(() => parseConfig(config({ store: REDIS, servers: { echo: { command: 'node' }, all: { aggregate: ['echo'], replicas: 2 } } }), 'test')).toThrow(
      /replicas/,
    );
    expect(() => parseConfig(config({ deploy: { router: 'builtin', drainPeriod: 'soon' } }), 'test')).toThrow(/drainPeriod/);
  });

  it('keeps compose at one container per service, and swarm without network: none', () => {
    const many = parseConfig(config({ store: REDIS, servers: { echo: { command: 'node', replicas: 2 } } }), 'test');
    const compose = refusal(() => planDeployment(many, '/srv/gw', 'compose'));
    expect(compose.code).toBe('ERR_CONFIG_INVALID');
    expect(compose.message).toContain('servers.echo.replicas is 2');
    expect(compose.hint).toContain('--target swarm');
    expect(() => planDeployment(many, '/srv/gw', 'kubernetes')).not.toThrow();
    const sealed = parseConfig(config({ servers: { echo: { command: 'node', network: 'none' } } }), 'test');
    expect(refusal(() => planDeployment(sealed, '/srv/gw', 'swarm')).message).toContain('network: none');
    expect(() => planDeployment(sealed, '/srv/gw', 'kubernetes')).not.toThrow();
  });

  it('reads --target, refusing unknown ones', () => {
    expect(parseDeployTarget(undefined)).toBe('compose');
    expect(parseDeployTarget('kubernetes')).toBe('kubernetes');
    expect(refusal(() => parseDeployTarget('nomad')).code).toBe('ERR_USAGE');
    expect(refusal(() => parseDeployTarget('kubernetes', ['compose', 'swarm'])).hint).toContain('compose, swarm');
  });
});
