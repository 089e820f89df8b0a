import { COMPOSE_HEADER_MARK } from '../render-compose.js';
import { CONFIG_FILE_KEY, projectLabels } from './kubernetes-names.js';
import { kubernetesYamlText } from './manifest-yaml.js';

/** A generator's source file, relative to kubernetes/. */
export interface GeneratedFrom {
  name: string;
  path: string;
}

/**
 * The fields of kustomize's Kustomization (kustomize.config.k8s.io/v1beta1) this file uses.
 * ConfigMaps and Secrets come from generators, which append a hash of their content to the
 * name and rewrite every reference in the pod templates: a changed config or secret rolls the
 * pods that read it, and no secret value is ever in a manifest.
 */
export interface Kustomization {
  apiVersion: 'kustomize.config.k8s.io/v1beta1';
  kind: 'Kustomization';
  namespace: string;
  resources: string[];
  configMapGenerator: Array<{ name: string; files: string[] }>;
  secretGenerator: Array<{ name: string; type: 'Opaque'; envs: string[] }>;
  generatorOptions: { labels: Record<string, string> };
}

export function kustomization({
  namespace,
  resources,
  configMaps,
  secrets,
}: {
  namespace: string;
  resources: readonly string[];
  configMaps: readonly GeneratedFrom[];
  secrets: readonly GeneratedFrom[];
}): Kustomization {
  const byName = (a: GeneratedFrom, b: GeneratedFrom) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace,
    resources: [...resources].sort(),
    // `key=path`: every config is mcp-gateway.yaml under /config, whatever its file is called here.
    configMapGenerator: [...configMaps].sort(byName).map(({ name, path }) => ({ name, files: [`${CONFIG_FILE_KEY}=${path}`] })),
    secretGenerator: [...secrets].sort(byName).map(({ name, path }) => ({ name, type: 'Opaque', envs: [path] })),
    generatorOptions: { labels: projectLabels(namespace) },
  };
}

/** kustomization.yaml; its first line carries COMPOSE_HEADER_MARK, by which `render` knows a deploy folder it may replace. */
export function kustomizationText(value: Kustomization): string {
  return kubernetesYamlText(
    value,
    [
      ` ${COMPOSE_HEADER_MARK} --target kubernetes from the project's mcp-gateway.yaml; edit that and render again.`,
      ' `kubectl apply -k .` in this folder (or `kubectl apply -k deploy/kubernetes` in the project) applies it;',
      ' push the runtime images to a registry the cluster pulls from first (docs/kubernetes.md).',
      ' Secrets are in secrets/*.env (mode 0600), never in a manifest.',
    ].join('\n'),
  );
}
