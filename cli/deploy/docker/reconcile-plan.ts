import { GatewayError } from '../../../runtime/errors.js';
import type { ComposeService } from './compose-model.js';

/** A container of the project as listed by the engine (found by the project label). */
export interface ExistingContainer {
  id: string;
  name: string;
  /** `io.mcp-gateway.service`; undefined for a container labelled with the project only. */
  service: string | undefined;
  /** `io.mcp-gateway.spec-hash`; undefined when it was created by something else (e.g. docker compose). */
  hash: string | undefined;
  /** Docker's state: created, running, restarting, exited, paused, dead. */
  state: string;
}

export interface DesiredContainer {
  service: string;
  containerName: string;
  hash: string;
}

export type ServiceAction =
  | { kind: 'create'; service: string }
  | { kind: 'recreate'; service: string; old: ExistingContainer }
  | { kind: 'start'; service: string; container: ExistingContainer }
  | { kind: 'keep'; service: string; container: ExistingContainer };

export interface ReconcilePlan {
  /** One action per desired service, in start order. */
  actions: ServiceAction[];
  /** Containers of the project no service claims (a removed server, a leftover of an interrupted run): removed once the rest is up. */
  orphans: ExistingContainer[];
}

/**
 * Decides what `up` does, from what should exist and what does (pure, so it is tested without
 * an engine): a service whose container is missing is created; one whose spec hash differs is
 * recreated; an unchanged but stopped one is started; an unchanged running one is left alone.
 */
export function planReconcile(desired: readonly DesiredContainer[], existing: readonly ExistingContainer[]): ReconcilePlan {
  const claimed = new Set<string>();
  const actions = desired.map((want): ServiceAction => {
    // By name: a project container holding the name (even under another service label) is in the way either way.
    const current = existing.find((c) => c.name === want.containerName);
    if (current === undefined) return { kind: 'create', service: want.service };
    claimed.add(current.id);
    if (current.hash !== want.hash || current.service !== want.service || current.state === 'dead' || current.state === 'removing')
      return { kind: 'recreate', service: want.service, old: current };
    if (current.state === 'running' || current.state === 'restarting') return { kind: 'keep', service: want.service, container: current };
    return { kind: 'start', service: want.service, container: current };
  });
  return { actions, orphans: existing.filter((c) => !claimed.has(c.id)) };
}

/**
 * Services in the order they start: every service after what it depends on, otherwise in file
 * order. A cycle is an error naming the services in it.
 */
export function startOrder(services: readonly Pick<ComposeService, 'name' | 'dependsOn'>[]): string[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new GatewayError('ERR_COMPOSE_INVALID', `depends_on has a cycle: ${cycle.join(' -> ')}`, {
        hint: 'render the deploy folder again with `mcp-gateway render`',
      });
    }
    state.set(name, 'visiting');
    for (const dep of byName.get(name)?.dependsOn ?? []) if (byName.has(dep.service)) visit(dep.service, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const service of services) visit(service.name, []);
  return order;
}
