import { isGatewayError } from '../../runtime/errors.js';
import { fail, pass, skip, type CheckResult, type DoctorContext } from './doctor-check.js';
import type { DoctorDockerEngine } from './doctor-deps.js';

export const NOT_DOCKER = 'not a Docker deployment (no rendered deploy/, no deploy.email or deploy.project): `mcp-gateway serve` runs it and needs no Docker';

/** The engine `mcp-gateway up` would use (DOCKER_HOST, else the default socket) answers a ping. */
export async function checkDocker(ctx: DoctorContext): Promise<CheckResult> {
  if (ctx.dockerReason === undefined) return skip('docker', NOT_DOCKER);
  try {
    const engine = await ctx.dockerEngine();
    return pass('docker', `the Docker engine at ${engine.endpoint} answers (${ctx.dockerReason})`);
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return fail('docker', err.message, err.hint ?? 'start the Docker engine (sudo systemctl start docker, or dockerd) and check DOCKER_HOST');
  }
}

/**
 * The engine for a check that needs one, or the skip that check reports instead: the docker
 * check above already fails with the fix, and one cause is reported once.
 */
export async function engineFor(ctx: DoctorContext, check: string): Promise<{ ok: true; engine: DoctorDockerEngine } | { ok: false; result: CheckResult }> {
  if (ctx.dockerReason === undefined) return { ok: false, result: skip(check, NOT_DOCKER) };
  try {
    return { ok: true, engine: await ctx.dockerEngine() };
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return { ok: false, result: skip(check, 'Docker is not reachable (see the docker check)') };
  }
}
