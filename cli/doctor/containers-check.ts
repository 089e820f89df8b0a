import { quote } from 'shell-quote';
import type { ServerConfig } from '../../runtime/config/schema.js';
import { isGatewayError } from '../../runtime/errors.js';
import type { ComposeProject } from '../deploy/docker/compose-model.js';
import { bridgeService, relayService } from '../deploy/deploy-plan.js';
import { engineFor } from './docker-check.js';
import { skip, worst, type CheckResult, type CheckStatus, type DoctorContext } from './doctor-check.js';
import type { DoctorContainer } from './doctor-deps.js';

interface ContainerFinding {
  status: CheckStatus;
  text: string;
  fix?: string;
}

/**
 * The deployment's own services (Redis, auth, the router or Traefik) run and are healthy. Which
 * services there are comes from deploy/compose.yaml when rendered, else from the config. Nothing
 * of the project on the engine fails once deploy/ is rendered (up ran, or render did: the
 * gateway is meant to run and does not, e.g. after `down`); before the first render it is a
 * warning, so doctor can be the check before the first `up` without failing on what up creates.
 */
export async function checkContainers(ctx: DoctorContext): Promise<CheckResult> {
  const found = await projectContainers(ctx, 'containers');
  if (!found.ok) return found.result;
  const { containers, compose } = found;
  const up = `mcp-gateway up --dir ${quote([ctx.paths.dir])}`;
  if (containers.length === 0) {
    return compose === undefined
      ? { name: 'containers', status: 'warn', detail: `nothing of ${ctx.dockerProject} is on the engine yet: up renders deploy/ and starts it`, fix: up }
      : {
          name: 'containers',
          status: 'fail',
          detail: `no container of ${ctx.dockerProject} exists: the deployment is not running (never started, or taken down)`,
          fix: up,
        };
  }
  const core =
    compose === undefined
      ? ['redis', 'auth', ctx.config.deploy.router === 'traefik' ? 'traefik' : 'router']
      : compose.services.map((s) => s.name).filter((name) => !isServerService(name));
  const findings = core.map((service) => judge(ctx, service, containers));
  if (compose !== undefined) {
    const known = new Set(compose.services.map((s) => s.name));
    const leftovers = containers.filter((c) => c.service !== undefined && !known.has(c.service));
    if (leftovers.length > 0) {
      findings.push({
        status: 'warn',
        text: `left from an earlier deployment: ${leftovers.map((c) => c.name).join(', ')}`,
        fix: `${up} (it removes the containers of services that are gone)`,
      });
    }
  }
  return result('containers', findings);
}

/**
 * A server of a Docker deployment runs in its bridge container (and, with `network: none`, its
 * relay's): it is judged by that container's state and healthcheck, which asks the server for
 * `initialize` inside the container. Its command is the runtime image's business, not this
 * host's PATH.
 */
export async function checkServerContainer(ctx: DoctorContext, name: string, server: ServerConfig): Promise<CheckResult> {
  const check = `server:${name}`;
  const found = await projectContainers(ctx, check);
  if (!found.ok) return found.result;
  const { containers, compose } = found;
  if (containers.length === 0)
    return skip(check, `the deployment is not started (see containers): its bridge ${bridgeService(name)} runs after mcp-gateway up`);
  const sealed = compose === undefined ? 'network' in server && server.network === 'none' : compose.services.some((s) => s.name === relayService(name));
  const services = sealed ? [bridgeService(name), relayService(name)] : [bridgeService(name)];
  return result(
    check,
    services.map((service) => judge(ctx, service, containers)),
  );
}

type Found = { ok: true; containers: DoctorContainer[]; compose: ComposeProject | undefined } | { ok: false; result: CheckResult };

async function projectContainers(ctx: DoctorContext, check: string): Promise<Found> {
  const reached = await engineFor(ctx, check);
  if (!reached.ok) return reached;
  // An invalid compose.yaml is the images check's failure to report; here the config's plan does.
  const compose = await ctx.compose?.().catch((err: unknown) => {
    if (isGatewayError(err)) return undefined;
    throw err;
  });
  return { ok: true, containers: await reached.engine.containers(ctx.dockerProject), compose };
}

function isServerService(service: string): boolean {
  return service.startsWith('bridge-') || service.startsWith('relay-');
}

function judge(ctx: DoctorContext, service: string, containers: readonly DoctorContainer[]): ContainerFinding {
  const dir = `--dir ${quote([ctx.paths.dir])}`;
  const logs = `mcp-gateway logs ${service} ${dir}`;
  const container = containers.find((c) => c.service === service);
  if (container === undefined) {
    return { status: 'fail', text: `${service} has no container (added after the last up, or removed by hand)`, fix: `mcp-gateway up ${dir}` };
  }
  const why = container.problem === undefined ? '' : `: ${container.problem}`;
  if (container.state === 'running') {
    if (container.health === 'unhealthy') return { status: 'fail', text: `${container.name} runs but is unhealthy${why}`, fix: `see why: ${logs}` };
    if (container.health === 'starting')
      return { status: 'warn', text: `${container.name} is still starting (its healthcheck has not passed yet)`, fix: `wait, then run doctor again; ${logs}` };
    return { status: 'pass', text: `${container.name} running${container.health === 'healthy' ? ', healthy' : ''}` };
  }
  const code = container.exitCode === undefined ? '' : ` (exit code ${container.exitCode})`;
  return { status: 'fail', text: `${container.name} is ${container.state}${code}${why}`, fix: `see why: ${logs}; then start it again: mcp-gateway up ${dir}` };
}

function result(name: string, findings: readonly ContainerFinding[]): CheckResult {
  const fixes = [...new Set(findings.map((f) => f.fix).filter((f): f is string => f !== undefined))];
  const checked: CheckResult = { name, status: worst(findings.map((f) => f.status)), detail: findings.map((f) => f.text).join('; ') };
  return fixes.length === 0 ? checked : { ...checked, fix: fixes.join('\n') };
}
