import type { ServiceSecrets } from '../deploy-secrets.js';
import type { TargetFiles } from '../deploy-target.js';
import type { DeploymentFilesInputs } from '../render-deployment.js';

/** The swarm target's files: stack.yaml (docker stack deploy) and one file per Docker secret. Being written (issue 16). */
export function renderSwarmFiles(_inputs: DeploymentFilesInputs, _secrets: ServiceSecrets): TargetFiles {
  throw new TypeError('renderSwarmFiles: not written yet');
}
