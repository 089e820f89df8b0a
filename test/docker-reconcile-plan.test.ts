import { describe, expect, it } from 'vitest';
import { planReconcile, startOrder, type ExistingContainer } from '../cli/deploy/docker/reconcile-plan.js';
import { isGatewayError } from '../runtime/errors.js';

const want = (service: string, hash = `h-${service}`) => ({ service, containerName: `p-${service}-1`, hash });
const have = (service: string, overrides: Partial<ExistingContainer> = {}): ExistingContainer => ({
  id: `id-${service}`,
  name: `p-${service}-1`,
  service,
  hash: `h-${service}`,
  state: 'running',
  ...overrides,
});

describe('planReconcile', () => {
  it('creates what is missing, keeps what is unchanged and running, starts what is unchanged and stopped', () => {
    const plan = planReconcile([want('redis'), want('auth'), want('router')], [have('redis'), have('auth', { state: 'exited' })]);
    expect(plan.actions.map((a) => `${a.service}:${a.kind}`)).toEqual(['redis:keep', 'auth:start', 'router:create']);
    expect(plan.orphans).toEqual([]);
  });

  it('recreates only the container whose spec hash changed', () => {
    const plan = planReconcile([want('auth', 'new'), want('bridge-a'), want('bridge-b')], [have('auth'), have('bridge-a'), have('bridge-b')]);
    expect(plan.actions.map((a) => `${a.service}:${a.kind}`)).toEqual(['auth:recreate', 'bridge-a:keep', 'bridge-b:keep']);
  });

  it('recreates a container created without our hash (e.g. by docker compose) and a dead one', () => {
    const plan = planReconcile([want('auth'), want('redis')], [have('auth', { hash: undefined }), have('redis', { state: 'dead' })]);
    expect(plan.actions.map((a) => a.kind)).toEqual(['recreate', 'recreate']);
  });

  it('leaves the containers of a removed server, and leftovers under another name, as orphans to remove', () => {
    const leftover = have('auth', { id: 'old-auth', name: 'p-auth-1-replaced-0123' });
    const plan = planReconcile([want('auth')], [have('auth'), have('bridge-gone'), leftover]);
    expect(plan.actions.map((a) => a.kind)).toEqual(['keep']);
    expect(plan.orphans.map((c) => c.id).sort()).toEqual(['id-bridge-gone', 'old-auth']);
  });

  it('replaces a project container holding the name under another service label', () => {
    const plan = planReconcile([want('auth')], [have('router', { name: 'p-auth-1' })]);
    expect(plan.actions[0]).toMatchObject({ kind: 'recreate', service: 'auth' });
    expect(plan.orphans).toEqual([]);
  });
});

describe('startOrder', () => {
  const svc = (name: string, ...deps: string[]) => ({
    name,
    dependsOn: deps.map((service) => ({ service, condition: 'service_healthy' as const, required: true })),
  });

  it('puts every service after what it depends on, otherwise keeps file order', () => {
    expect(startOrder([svc('router', 'auth'), svc('bridge-a'), svc('auth', 'redis'), svc('redis')])).toEqual(['redis', 'auth', 'router', 'bridge-a']);
  });

  it('names the services of a depends_on cycle', () => {
    let error: unknown;
    try {
      startOrder([svc('a', 'b'), svc('b', 'a')]);
    } catch (err) {
      error = err;
    }
    expect(isGatewayError(error) && error.code).toBe('ERR_COMPOSE_INVALID');
    expect(String((error as Error).message)).toContain('a -> b -> a');
  });
});
