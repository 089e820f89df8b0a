import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { REDIS_SERVICE, selectorLabels, serviceLabels } from './kubernetes-names.js';
import type { Manifest } from './manifest-yaml.js';
import { RUNTIME_RESOURCES } from './resource-quantities.js';
import { podSpec, secretEnv, service, type WorkloadContext } from './workload-parts.js';

export const REDIS_PORT = 6379;
/** The claim of Redis's data (append-only file): grants, clients, sessions are small. */
export const REDIS_STORAGE = '1Gi';

/**
 * redis.yaml: the deployment's Redis (compose's `redis`), rendered unless the project's config
 * names an external one. One pod of a StatefulSet, for its claim; its password is
 * REDIS_PASSWORD of its Secret, which auth has as MCPGW_REDIS_PASSWORD. Only auth reaches it.
 */
export function redisManifests(context: WorkloadContext, { image }: { image: string }): Manifest[] {
  const labels = serviceLabels(context.namespace, 'redis', REDIS_SERVICE);
  const password = secretEnv(context, REDIS_SERVICE);
  if (!password.some((variable) => variable.name === 'REDIS_PASSWORD')) throw new TypeError('the redis service needs REDIS_PASSWORD among its secrets');
  const statefulSet: IStatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: REDIS_SERVICE, namespace: context.namespace, labels },
    spec: {
      serviceName: REDIS_SERVICE,
      replicas: 1,
      selector: { matchLabels: selectorLabels(REDIS_SERVICE) },
      template: {
        metadata: { labels },
        spec: podSpec(context, REDIS_SERVICE, {
          containers: [
            {
              name: 'redis',
              image,
              // redis-server itself rather than the image's entrypoint, which only matters when it
              // starts as root; Kubernetes replaces $(REDIS_PASSWORD) from the env, no shell involved.
              command: ['redis-server'],
              args: ['--dir', '/data', '--appendonly', 'yes', '--requirepass', '$(REDIS_PASSWORD)'],
              // REDISCLI_AUTH: redis-cli of the probe authenticates without the password on its command line.
              env: [...password, ...password.map((variable) => ({ ...variable, name: 'REDISCLI_AUTH' }))],
              ports: [{ name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' }],
              readinessProbe: {
                exec: { command: ['sh', '-c', 'redis-cli ping | grep -q PONG'] },
                periodSeconds: 5,
                timeoutSeconds: 3,
                failureThreshold: 3,
              },
              livenessProbe: { tcpSocket: { port: 'redis' }, initialDelaySeconds: 10, periodSeconds: 15, failureThreshold: 4 },
              resources: RUNTIME_RESOURCES,
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
        }),
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: REDIS_STORAGE } } },
        },
      ],
    },
  };
  const redisService = service(context, { name: REDIS_SERVICE, labels, ports: { redis: REDIS_PORT }, headless: true });
  return [
    { comment: "Redis's Service (headless, the StatefulSet's governing Service): redis:6379 in the containers' config.", object: redisService },
    {
      comment: "The store of auth: grants, clients, pending logins, rate limits. The volume claim uses the cluster's default StorageClass.",
      object: statefulSet,
    },
  ];
}
