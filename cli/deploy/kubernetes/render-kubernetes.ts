import type { INamespace } from 'kubernetes-models/v1/Namespace';
import { GatewayError } from '../../../runtime/errors.js';
import { bridgeContainerConfig } from '../container-config.js';
import type { DeployPlan } from '../deploy-plan.js';
import type { ServiceSecrets } from '../deploy-secrets.js';
import type { TargetFiles } from '../deploy-target.js';
import type { DeploymentFilesInputs } from '../render-deployment.js';
import { authManifests } from './auth-manifests.js';
import { bridgeManifests } from './bridge-manifests.js';
import { clusterIssuerManifest, ingressManifests } from './ingress-manifests.js';
import { bridgeConfigMap, GATEWAY_CONFIG_MAP, KUBERNETES_DIR, namespaceName, projectLabels, REDIS_SERVICE, secretName } from './kubernetes-names.js';
import { externalRedis, kubernetesConfigText, kubernetesContainerConfig } from './kubernetes-store.js';
import { formatKustomizeEnvFile } from './kustomize-env-file.js';
import { type GeneratedFrom, kustomization, kustomizationText } from './kustomization.js';
import { type Manifest, manifestFileText } from './manifest-yaml.js';
import { networkPolicies } from './network-policies.js';
import { runtimeIds } from './pod-security.js';
import { redisManifests } from './redis-manifests.js';
import { routerManifests } from './router-manifests.js';
import type { WorkloadContext } from './workload-parts.js';

const FILE_HEADER = [
  "Rendered by `mcp-gateway render --target kubernetes` from the project's mcp-gateway.yaml; applied",
  'through kustomization.yaml beside it (kubectl apply -k). Edit the config and render again.',
];

/**
 * The kubernetes target's files, under kubernetes/ of the deploy folder: plain manifests, one
 * file per part (namespace, auth, router, Redis, each bridge, network policies, Ingress), the
 * containers' configs that kustomize turns into ConfigMaps, and the secrets as env files
 * (secretFiles, mode 0600) that it turns into Secrets. No I/O; deterministic (sorted).
 */
export function renderKubernetesFiles({ config, plan, images, user }: DeploymentFilesInputs, secrets: ServiceSecrets): TargetFiles {
  checkKubernetesPlan(plan);
  const namespace = namespaceName(plan.project);
  const redis = externalRedis(config);
  const forPods = kubernetesContainerConfig(config);
  const files = new Map<string, string>();
  const secretFiles = new Map<string, string>();

  const configMaps: GeneratedFrom[] = [{ name: GATEWAY_CONFIG_MAP, path: 'config/mcp-gateway.yaml' }];
  files.set(`${KUBERNETES_DIR}/config/mcp-gateway.yaml`, kubernetesConfigText(forPods));
  for (const bridge of plan.bridges) {
    const path = `config/bridges/${bridge.server}/mcp-gateway.yaml`;
    configMaps.push({ name: bridgeConfigMap(bridge), path });
    files.set(`${KUBERNETES_DIR}/${path}`, kubernetesConfigText(bridgeContainerConfig(forPods, bridge.server)));
  }

  // Only the services that run here and have secrets get a Secret (with an external Redis there is no redis pod).
  const secretGenerators: GeneratedFrom[] = [];
  const secretNames = new Map<string, string[]>();
  for (const [service, entries] of [...secrets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (entries.length === 0 || (service === REDIS_SERVICE && redis !== undefined)) continue;
    const path = `secrets/${service}.env`;
    secretFiles.set(`${KUBERNETES_DIR}/${path}`, formatKustomizeEnvFile(service, entries));
    secretGenerators.push({ name: secretName(service), path });
    secretNames.set(
      service,
      entries.map(([name]) => name),
    );
  }

  const context: WorkloadContext = { namespace, ids: runtimeIds(user), secretNames };
  const manifests = new Map<string, Manifest[]>([
    ['namespace.yaml', [namespaceManifest(namespace)]],
    ['auth.yaml', authManifests(context, { image: images.node.tag, replicas: plan.replicas.auth })],
    ['router.yaml', routerManifests(context, { image: images.node.tag, replicas: plan.replicas.router })],
    ['network-policies.yaml', networkPolicies({ namespace, bridges: plan.bridges, redis, acmeSolver: plan.router === 'traefik' })],
    ['ingress.yaml', ingressManifests(config, plan, namespace)],
  ]);
  if (redis === undefined) manifests.set('redis.yaml', redisManifests(context, { image: config.deploy.redisImage }));
  if (plan.router === 'traefik') manifests.set('cluster-issuer.yaml', [clusterIssuerManifest(config, namespace)]);
  for (const bridge of plan.bridges) {
    manifests.set(
      `bridges/${bridge.server}.yaml`,
      bridgeManifests(context, { bridge, image: images[bridge.runtime].tag, drainMs: plan.drainMs, shutdownGraceMs: config.shutdownGrace }),
    );
  }
  for (const [path, objects] of manifests) files.set(`${KUBERNETES_DIR}/${path}`, manifestFileText(FILE_HEADER, objects));

  files.set(
    `${KUBERNETES_DIR}/kustomization.yaml`,
    kustomizationText(kustomization({ namespace, resources: [...manifests.keys()], configMaps, secrets: secretGenerators })),
  );
  return { files: sorted(files), secretFiles: sorted(secretFiles) };
}

/**
 * The namespace of the whole deployment, enforcing the restricted Pod Security profile: a pod
 * that does not meet it (one added by hand, a patched manifest) is refused at admission.
 */
function namespaceManifest(namespace: string): Manifest {
  const object: INamespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      labels: {
        ...projectLabels(namespace),
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
  return { comment: 'Every object of the deployment is in this namespace; its pods must meet the restricted Pod Security profile.', object };
}

/**
 * What the plan holds that a pod of the restricted profile cannot do: `servers.NAME.mounts` are
 * host paths, and hostPath volumes are forbidden there (pod-security-standards, "HostPath
 * Volumes"); silently leaving them out would start the server without its files.
 */
function checkKubernetesPlan(plan: DeployPlan): void {
  const mounted = plan.bridges.find((bridge) => bridge.mounts.length > 0);
  if (mounted !== undefined) {
    throw new GatewayError(
      'ERR_CONFIG_INVALID',
      `servers.${mounted.server}.mounts: host paths cannot be mounted into a Kubernetes pod of the restricted Pod Security profile (hostPath volumes are forbidden)`,
      {
        hint: `remove the mounts of ${mounted.server} for the Kubernetes deployment and give it its files another way (a volume added with a kustomize patch, see docs/kubernetes.md), or deploy to compose`,
      },
    );
  }
}

function sorted(map: Map<string, string>): Map<string, string> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
