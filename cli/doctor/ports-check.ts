import { isGatewayError } from '../../runtime/errors.js';
import { worst, skip, type CheckResult, type CheckStatus, type DoctorContext } from './doctor-check.js';

interface PortFinding {
  status: CheckStatus;
  text: string;
  fix?: string;
}

/**
 * The router's host ports (`deploy.httpPort`/`httpsPort` on `deploy.bind`; the builtin router
 * publishes http only) are free, or already published by a container of this very deployment
 * (a running `up`). Binding is the only test that sees every kind of holder, so it runs when the
 * engine is on this machine; a port below 1024 that we may not bind is reported, not guessed.
 */
export async function checkPorts(ctx: DoctorContext): Promise<CheckResult> {
  if (ctx.dockerReason === undefined)
    return skip('ports', 'not a Docker deployment: ports 80/443 are not ours to claim (serve listens where listen: or publicUrl says)');
  const { deploy } = ctx.config;
  const ports = deploy.router === 'traefik' ? [deploy.httpPort, deploy.httpsPort] : [deploy.httpPort];
  const bind = deploy.bind;

  let engine: Awaited<ReturnType<DoctorContext['dockerEngine']>> | undefined;
  try {
    engine = await ctx.dockerEngine();
  } catch (err) {
    if (!isGatewayError(err)) throw err;
  }
  if (engine !== undefined && !engine.local) {
    return skip('ports', `the Docker engine is remote (${engine.endpoint}): ports ${ports.join(', ')} are on that host, not testable from here`);
  }
  const ours = engine === undefined ? undefined : await engine.projectContainers(ctx.dockerProject).catch(() => undefined);

  const findings: PortFinding[] = [];
  for (const port of ports) {
    const where = `${bind}:${port}`;
    const outcome = await ctx.deps.bindTest(bind, port);
    if (outcome === 'free') {
      findings.push({ status: 'pass', text: `${where} free` });
      continue;
    }
    if (outcome === 'not-local') {
      findings.push({
        status: 'fail',
        text: `deploy.bind ${bind} is not an address of this host`,
        fix: "set deploy.bind to one of this host's addresses (0.0.0.0 for all) in mcp-gateway.yaml",
      });
      continue;
    }
    const holder = ours?.find((c) => c.ports.some((p) => p.port === port && p.protocol === 'tcp'));
    if (holder !== undefined) {
      findings.push({ status: 'pass', text: `${where} held by this deployment's ${holder.name}` });
      continue;
    }
    if (outcome === 'denied') {
      findings.push({
        status: 'warn',
        text: `${where} could not be tested: binding a port below 1024 needs privileges this user lacks (Docker's proxy will have them)`,
        fix: `see what holds it: sudo ss -ltnp 'sport = :${port}'`,
      });
      continue;
    }
    const unknownOwner = engine === undefined ? ' (Docker is unreachable, so whether our router holds it is unknown)' : '';
    findings.push({
      status: 'fail',
      text: `${where} is in use by another program${unknownOwner}`,
      fix: `stop what holds it (sudo ss -ltnp 'sport = :${port}' names it), or publish elsewhere: deploy.httpPort / deploy.httpsPort / deploy.bind in mcp-gateway.yaml`,
    });
  }
  const fixes = [...new Set(findings.map((f) => f.fix).filter((f): f is string => f !== undefined))];
  const result: CheckResult = { name: 'ports', status: worst(findings.map((f) => f.status)), detail: findings.map((f) => f.text).join('; ') };
  return fixes.length === 0 ? result : { ...result, fix: fixes.join('\n') };
}
