import { relative, sep } from 'node:path';
import { type ProjectPaths, projectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import type { DeployTarget } from '../deploy/deploy-target.js';
import { withImageOverrides } from '../deploy/image-overrides.js';
import { type RenderedDeployment, renderDeployment } from '../deploy/render-deployment.js';
import { ensureGitignore } from '../gitignore.js';
import { packageRoot, packageVersion } from '../package-info.js';
import type { UpOptions } from './up.js';

/**
 * The first step of every `up` (compose or swarm): the config with this run's image overrides,
 * rendered into the deploy folder for the target; as `render` does, the folder (secrets,
 * node_modules) and logs/ are kept out of git.
 */
export async function renderForUp(
  options: UpOptions,
  config: GatewayConfig,
  { user, target }: { user: string | undefined; target: Exclude<DeployTarget, 'kubernetes'> },
): Promise<{ effective: GatewayConfig; paths: ProjectPaths; rendered: RenderedDeployment }> {
  const effective = withImageOverrides(config, options);
  const paths = projectPaths(options.dir);
  const rendered = await renderDeployment(effective, paths, {
    out: options.out,
    baseImage: options.nodeImage === undefined ? options.baseImage : undefined,
    user,
    packageRoot: packageRoot(),
    version: packageVersion(),
    target,
  });
  await ensureGitignore(paths.gitignore, [
    ...(rendered.out.startsWith(paths.dir + sep) ? [`${relative(paths.dir, rendered.out).split(sep).join('/')}/`] : []),
    'logs/',
  ]);
  return { effective, paths, rendered };
}
