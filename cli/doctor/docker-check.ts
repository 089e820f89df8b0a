import type { ProjectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import { renderedDeployReason } from '../deploy/docker-deployment.js';
import { isGatewayError } from '../../runtime/errors.js';
import { fail, pass, skip, type CheckResult, type DoctorContext } from './doctor-check.js';

/**
 * Whether this project uses the Docker deployment, and how we know. The `deploy` section always
 * has defaults, so its mere presence says nothing; a domain, an e-mail or a project name set in
 * it, or a rendered deploy folder, does.
 */
export async function dockerDeploymentReason(config: GatewayConfig, paths: ProjectPaths): Promise<string | undefined> {
  const set = (['domain', 'email', 'project'] as const).filter((key) => config.deploy[key] !== undefined);
  if (set.length > 0) return `deploy.${set.join(', deploy.')} set in the config`;
  return renderedDeployReason(paths);
}

export const NOT_DOCKER =
  'not a Docker deployment (no deploy.domain, deploy.email or deploy.project, no rendered deploy/): `mcp-gateway serve` needs no Docker';

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
