import type { ServiceSecrets } from '../deploy-secrets.js';
import type { TargetFiles } from '../deploy-target.js';
import type { DeploymentFilesInputs } from '../render-deployment.js';

/** The kubernetes target's files: manifests under kubernetes/ with a kustomization. Being written (issue 16). */
export function renderKubernetesFiles(_inputs: DeploymentFilesInputs, _secrets: ServiceSecrets): TargetFiles {
  throw new TypeError('renderKubernetesFiles: not written yet');
}
