import { loadConfig } from '../runtime/config/load-config.js';
import type { GatewayConfig } from '../runtime/config/schema.js';
import { connectDocker, type DockerConnection } from './deploy/docker/docker-connection.js';
import { projectName } from './deploy/deploy-plan.js';

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
