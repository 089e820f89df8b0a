import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The files under `templates/` a deploy folder is rendered from, by role. */
const TEMPLATE_FILES = {
  composeBase: 'compose/base.yml',
  composeBridge: 'compose/bridge.yml',
  composeRelay: 'compose/relay.yml',
  composeRouterBuiltin: 'compose/router-builtin.yml',
  composeRouterTraefik: 'compose/router-traefik.yml',
  traefikStatic: 'traefik/traefik.yml',
  traefikDynamic: 'traefik/dynamic.yml',
  traefikServerPath: 'traefik/dynamic-server-path.yml',
  traefikServerSubdomain: 'traefik/dynamic-server-subdomain.yml',
  nodeDockerfile: 'docker/runtime-node.Dockerfile',
  pythonDockerfile: 'docker/runtime-python.Dockerfile',
} as const;

export type TemplateName = keyof typeof TEMPLATE_FILES;

export interface TemplateFile {
  /** `templates/...`, for messages. */
  source: string;
  text: string;
}

export type DeployTemplates = Readonly<Record<TemplateName, TemplateFile>>;

/** Reads every template once from the installed package (`templates/` ships with it). */
export async function loadDeployTemplates(packageRoot: string): Promise<DeployTemplates> {
  const entries = await Promise.all(
    Object.entries(TEMPLATE_FILES).map(async ([name, file]) => {
      const source = `templates/${file}`;
      return [name, { source, text: await readFile(join(packageRoot, source), 'utf8') }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<TemplateName, TemplateFile>;
}
