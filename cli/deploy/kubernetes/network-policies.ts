import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyEgressRule } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyEgressRule';
import type { INetworkPolicySpec } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicySpec';
import { RUNTIME_PORT } from '../../../runtime/http/edge-contract.js';
import { METRICS_PORT } from '../../../runtime/entrypoints/runtime-metrics.js';
import type { BridgePlan } from '../deploy-plan.js';
import { AUTH_SERVICE, projectLabels, REDIS_SERVICE, ROUTER_SERVICE, selectorLabels } from './kubernetes-names.js';
import type { ExternalRedis } from './kubernetes-store.js';
import type { Manifest } from './manifest-yaml.js';
import { REDIS_PORT } from './redis-manifests.js';
import { ROUTER_PORT } from './router-manifests.js';

/** The port cert-manager's HTTP-01 solver pod answers Let's Encrypt's challenge on, in this namespace (beside the Ingress). */
const ACME_SOLVER_PORT = 8089;
const ACME_SOLVER_LABEL = 'acme.cert-manager.io/http01-solver';

/**
 * "The internet" as an address block: everything but the private, shared (CGNAT), loopback and
 * link-local ranges. Pod and Service addresses are private in every usual cluster, so this keeps
 * a server off the cluster's pods, the API server and the cloud metadata endpoint
 * (169.254.169.254) while it reaches public hosts. A server that needs a private address gets an
 * extra NetworkPolicy from the operator: policies only ever add what is allowed.
 */
const PUBLIC_IPV4 = {
  cidr: '0.0.0.0/0',
  except: ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'],
};
// ::ffff:0:0/96 is IPv4 written as IPv6, which would reach the private IPv4 ranges again.
const PUBLIC_IPV6 = { cidr: '::/0', except: ['::1/128', '::ffff:0:0/96', 'fc00::/7', 'fe80::/10'] };

const TCP = 'TCP' as const;

/** DNS on port 53 wherever the cluster's resolver is (kube-dns, or a node-local cache on a link-local address). */
const DNS_EGRESS: INetworkPolicyEgressRule = {
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: TCP, port: 53 },
  ],
};
const INTERNET_EGRESS: INetworkPolicyEgressRule = { to: [{ ipBlock: PUBLIC_IPV4 }, { ipBlock: PUBLIC_IPV6 }] };

function policy(namespace: string, name: string, spec: INetworkPolicySpec): INetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace, labels: projectLabels(namespace) }, spec };
}

const pods = (service: string) => ({ podSelector: { matchLabels: selectorLabels(service) } });
const BRIDGE_PODS = { podSelector: { matchLabels: { 'app.kubernetes.io/component': 'bridge' } } };

/**
 * network-policies.yaml: the project network picture of compose (each bridge on a network it
 * shares with the router only, Redis and auth on the default one) as NetworkPolicies. A
 * default-deny for every pod of the namespace, then one allow policy per pod kind: the router
 * takes requests from anywhere (the Ingress controller runs wherever the cluster put it) and
 * reaches auth and the bridges; auth is reached by the router only and reaches Redis and the
 * internet (the login provider, metadata documents); Redis is reached by auth only; a bridge is
 * reached by the router only and reaches DNS and the internet, or with `network: none` nothing
 * at all, which is how Kubernetes gives a server no network.
 */
export function networkPolicies({
  namespace,
  bridges,
  redis,
  acmeSolver,
}: {
  namespace: string;
  bridges: readonly BridgePlan[];
  /** Where auth reaches Redis: the deployment's pod, or an external address. */
  redis: ExternalRedis | undefined;
  /** cert-manager answers the HTTP-01 challenge from a pod in this namespace (router: traefik). */
  acmeSolver: boolean;
}): Manifest[] {
  const manifests: Manifest[] = [
    {
      comment: 'Nothing in or out of any pod of the namespace but what the policies below allow.',
      object: policy(namespace, 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    },
    {
      comment: 'The router: requests from the Ingress controller; out to auth and to the bridges (MCP and their metrics).',
      object: policy(namespace, ROUTER_SERVICE, {
        ...pods(ROUTER_SERVICE),
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ ports: [{ protocol: TCP, port: ROUTER_PORT }] }],
        egress: [
          DNS_EGRESS,
          { to: [pods(AUTH_SERVICE)], ports: [{ protocol: TCP, port: RUNTIME_PORT }] },
          {
            to: [BRIDGE_PODS],
            ports: [
              { protocol: TCP, port: RUNTIME_PORT },
              { protocol: TCP, port: METRICS_PORT },
            ],
          },
        ],
      }),
    },
    {
      comment:
        redis === undefined
          ? 'auth: reached by the router only; out to Redis, and to the internet (login provider, client metadata documents).'
          : `auth: reached by the router only; out to the external Redis (port ${redis.port}, any address), and to the internet (login provider, client metadata documents).`,
      object: policy(namespace, AUTH_SERVICE, {
        ...pods(AUTH_SERVICE),
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [pods(ROUTER_SERVICE)], ports: [{ protocol: TCP, port: RUNTIME_PORT }] }],
        egress: [
          DNS_EGRESS,
          redis === undefined ? { to: [pods(REDIS_SERVICE)], ports: [{ protocol: TCP, port: REDIS_PORT }] } : { ports: [{ protocol: TCP, port: redis.port }] },
          INTERNET_EGRESS,
        ],
      }),
    },
  ];
  if (redis === undefined) {
    manifests.push({
      comment: 'Redis: reached by auth only; no egress.',
      object: policy(namespace, REDIS_SERVICE, {
        ...pods(REDIS_SERVICE),
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [pods(AUTH_SERVICE)], ports: [{ protocol: TCP, port: REDIS_PORT }] }],
      }),
    });
  }
  for (const bridge of bridges) {
    const sealed = bridge.relay !== undefined;
    manifests.push({
      comment: sealed
        ? `${bridge.service} (network: none): reached by the router only; no egress at all, not even DNS.`
        : `${bridge.service}: reached by the router only; out to DNS and the internet, not to the cluster.`,
      object: policy(namespace, bridge.service, {
        ...pods(bridge.service),
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [pods(ROUTER_SERVICE)],
            ports: [
              { protocol: TCP, port: RUNTIME_PORT },
              { protocol: TCP, port: METRICS_PORT },
            ],
          },
        ],
        ...(sealed ? {} : { egress: [DNS_EGRESS, INTERNET_EGRESS] }),
      }),
    });
  }
  if (acmeSolver) {
    manifests.push({
      comment: "cert-manager's HTTP-01 solver pod, which it starts here beside the Ingress: Let's Encrypt's challenge through the Ingress controller.",
      object: policy(namespace, 'acme-http01-solver', {
        podSelector: { matchLabels: { [ACME_SOLVER_LABEL]: 'true' } },
        policyTypes: ['Ingress'],
        ingress: [{ ports: [{ protocol: TCP, port: ACME_SOLVER_PORT }] }],
      }),
    });
  }
  return manifests;
}
