import type { IClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IIngressRule } from 'kubernetes-models/networking.k8s.io/v1/IngressRule';
import { gatewayUrls } from '../../../runtime/auth/gateway-urls.js';
import type { GatewayConfig } from '../../../runtime/config/schema.js';
import type { DeployPlan } from '../deploy-plan.js';
import { projectLabels, ROUTER_SERVICE } from './kubernetes-names.js';
import type { Manifest } from './manifest-yaml.js';

/** The IngressClass of Traefik's Kubernetes Ingress provider (its Helm chart's default). */
export const INGRESS_CLASS = 'traefik';
const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';

export function clusterIssuerName(namespace: string): string {
  return `${namespace}-letsencrypt`;
}

/**
 * The hosts the Ingress answers: the issuer's (every OAuth endpoint, and the MCP endpoints in the
 * path style), and in the subdomain style every NAME.<domain> at once (`*.domain`, so no server
 * is left out of the routes). The certificate names each server's host instead of the wildcard:
 * Let's Encrypt issues wildcards only through DNS-01, and the issuer here answers HTTP-01, as
 * Traefik's resolver of the compose deployment does.
 */
export function ingressHosts(config: GatewayConfig, plan: DeployPlan): { rules: string[]; tls: string[] } {
  const urls = gatewayUrls(config);
  const issuerHost = new URL(urls.issuer).hostname;
  if (urls.routing !== 'subdomain') return { rules: [issuerHost], tls: [issuerHost] };
  const serverHosts = plan.bridges.map((bridge) => new URL(urls.resourceFor(bridge.server)).hostname);
  const domain = (config.deploy.domain ?? issuerHost).toLowerCase();
  const unique = (hosts: string[]) => [...new Set(hosts)];
  return { rules: unique([issuerHost, `*.${domain}`]), tls: unique([issuerHost, ...serverHosts]) };
}

/**
 * ingress.yaml: everything to the router on 8080 (it applies the edge contract itself:
 * ForwardAuth, CORS, the split between OAuth and MCP). With deploy.router: traefik, HTTPS only
 * (Traefik's websecure entry point) with a certificate from cert-manager; with builtin, plain
 * HTTP on Traefik's entry points, for an operator who terminates TLS in front of the cluster.
 */
export function ingressManifests(config: GatewayConfig, plan: DeployPlan, namespace: string): Manifest[] {
  const hosts = ingressHosts(config, plan);
  const tls = plan.router === 'traefik';
  const rules: IIngressRule[] = hosts.rules.map((host) => ({
    host,
    http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: ROUTER_SERVICE, port: { name: 'http' } } } }] },
  }));
  const ingress: IIngress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: 'gateway',
      namespace,
      labels: projectLabels(namespace),
      ...(tls
        ? {
            annotations: {
              'cert-manager.io/cluster-issuer': clusterIssuerName(namespace),
              'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure',
              'traefik.ingress.kubernetes.io/router.tls': 'true',
            },
          }
        : {}),
    },
    spec: { ingressClassName: INGRESS_CLASS, rules, ...(tls ? { tls: [{ hosts: hosts.tls, secretName: 'gateway-tls' }] } : {}) },
  };
  return [
    {
      comment: tls
        ? 'HTTPS only (websecure): OAuth 2.1 needs TLS. cert-manager fills the Secret gateway-tls.'
        : 'deploy.router: builtin: no TLS here; terminate it in front of the cluster and forward to this Ingress.',
      object: ingress,
    },
  ];
}

/**
 * cluster-issuer.yaml (deploy.router: traefik): Let's Encrypt with deploy.email, the account the
 * compose deployment's Traefik resolver uses, answering HTTP-01 through Traefik. Cluster-scoped,
 * so it is named after the namespace: two projects in one cluster do not share one.
 */
export function clusterIssuerManifest(config: GatewayConfig, namespace: string): Manifest {
  const { email } = config.deploy;
  if (email === undefined) throw new TypeError('planDeployment refuses router: traefik without deploy.email');
  const issuer: IClusterIssuer = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'ClusterIssuer',
    metadata: { name: clusterIssuerName(namespace), labels: projectLabels(namespace) },
    spec: {
      acme: {
        email,
        server: LETS_ENCRYPT,
        privateKeySecretRef: { name: `${clusterIssuerName(namespace)}-account` },
        solvers: [{ http01: { ingress: { ingressClassName: INGRESS_CLASS } } }],
      },
    },
  };
  return { comment: "The certificate authority of ingress.yaml's annotation; needs cert-manager (1.10 or later) in the cluster.", object: issuer };
}
