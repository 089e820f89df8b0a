import type { ProjectPaths } from '../runtime/config/project-paths.js';
import type { GatewayConfig } from '../runtime/config/schema.js';
import { dockerDeployment } from './deploy/docker-deployment.js';
import { dirArg } from './dir-arg.js';

/** How a project's changes take effect: a running `serve` reloads by itself, a Docker deployment needs `up`. */
export type ProjectRunner = 'serve' | 'up';

/**
 * Which command runs the project, for the advice commands print after they change it. Docker
 * by the rule of docker-deployment.ts (a rendered deploy folder, deploy.email or deploy.project),
 * and also an https public URL without `listen`: serve speaks plain HTTP and refuses it, so such
 * a project is a Docker deployment (Traefik terminates TLS) that has not been rendered yet.
 */
export async function projectRunner(config: GatewayConfig, paths: ProjectPaths): Promise<ProjectRunner> {
  if ((await dockerDeployment(config, paths)) !== undefined) return 'up';
  return config.publicUrl.protocol === 'https:' && config.listen === undefined ? 'up' : 'serve';
}

/** The command that makes a config change live, as a line for the person who made it. */
export function applyAdvice(runner: ProjectRunner, dir: string): string {
  return runner === 'up'
    ? `Apply it to the Docker deployment: mcp-gateway up${dirArg(dir)}`
    : `A running mcp-gateway serve picks it up by itself; otherwise start it: mcp-gateway serve${dirArg(dir)}`;
}

/** The command to run next, for `--json` results. */
export function applyCommand(runner: ProjectRunner, dir: string): string {
  return `mcp-gateway ${runner}${dirArg(dir)}`;
}
