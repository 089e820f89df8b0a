import { loadConfig } from '../runtime/config/load-config.js';
import { projectPaths, type ProjectPaths } from '../runtime/config/project-paths.js';
import type { GatewayConfig } from '../runtime/config/schema.js';
import { connectDocker, type DockerConnection } from './deploy/docker/docker-connection.js';
import { projectName } from './deploy/deploy-plan.js';
import { dockerDeployment } from './deploy/docker-deployment.js';

export interface DeploymentTarget {
  config: GatewayConfig;
  /** The Docker project name every container, network and volume of the deployment is labelled with. */
  project: string;
  connection: DockerConnection;
}

/** What `up`, `down`, `status` and `logs` start from: the project's config, its Docker project name, a pinged engine. */
export async function deploymentTarget(dir: string, connect: () => Promise<DockerConnection> = () => connectDocker()): Promise<DeploymentTarget> {
  const config = await loadConfig(dir);
  const connection = await connect();
  return { config, project: projectName(config, dir), connection };
}

/**
 * How a project runs, by the one rule of cli/deploy/docker-deployment.ts (a rendered deploy
 * folder, which `up` always writes, or deploy.email / deploy.project set): in Docker (`up`), or
 * embedded (`serve`). `status` and `doctor` branch on it, so neither asks Docker about a project
 * that never uses it.
 */
export type DeploymentMode =
  | {
      kind: 'docker';
      /** The Docker project name (`deploy.project` or `mcpgw-<folder>`). */
      project: string;
      /** How we know, for messages: "deploy/compose.yaml was rendered", "deploy.email set in the config". */
      reason: string;
    }
  | { kind: 'embedded' };

export interface ProjectTarget {
  config: GatewayConfig;
  paths: ProjectPaths;
  mode: DeploymentMode;
}

/** The project's config, paths and how it runs: what a command that serves both kinds starts from. */
export async function projectTarget(dir: string): Promise<ProjectTarget> {
  const paths = projectPaths(dir);
  const config = await loadConfig(paths.dir);
  return { config, paths, mode: await deploymentMode(config, paths) };
}

/** How the project runs; for commands that already hold its config (add-server, remove-server and init pick their advice by it). */
export async function deploymentMode(config: GatewayConfig, paths: ProjectPaths): Promise<DeploymentMode> {
  const docker = await dockerDeployment(config, paths);
  return docker === undefined ? { kind: 'embedded' } : { kind: 'docker', project: projectName(config, paths.dir), reason: docker.reason };
}
