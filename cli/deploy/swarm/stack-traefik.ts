import { isMap, isScalar, parse, parseDocument, stringify } from 'yaml';
import { gatewayUrls } from '../../../runtime/auth/gateway-urls.js';
import { toYamlText } from '../merge-documents.js';
import type { DeploymentFilesInputs } from '../render-deployment.js';
import { renderCompose } from '../render-compose.js';
import { renderTraefikStatic } from '../render-traefik.js';
import { host } from '../traefik-rules.js';
import { hashedKey } from './stack-names.js';
import { deployBlock, serviceLabels, swarmService, type YamlMap } from './stack-services.js';

/** Where the router listens in its container (MCPGW_LISTEN of templates/compose/router-builtin.yml). */
const ROUTER_URL = 'http://router:8080';

export interface TraefikFront {
  service: YamlMap;
  /** traefik/traefik.yml and traefik/dynamic.yml, which become swarm configs. */
  files: Map<string, string>;
  configs: Record<string, YamlMap>;
  volumes: Record<string, YamlMap>;
}

/**
 * deploy.router: traefik on a swarm: Traefik terminates TLS (Let's Encrypt, HTTP-01) on the
 * public host names and forwards every request to our router, which does what Traefik's
 * ForwardAuth and routes do in the compose target (and resolves bridge replicas by
 * tasks.bridge-NAME, which a Traefik file provider cannot). Its static configuration is the
 * compose target's without the Docker provider (no socket on a swarm service); its service the
 * compose one, published in host mode.
 */
export function traefikFront(inputs: DeploymentFilesInputs): TraefikFront {
  const { config, plan, templates } = inputs;
  const staticDoc = parseDocument(renderTraefikStatic(config, plan, templates));
  staticDoc.deleteIn(['providers', 'docker']);
  const file = staticDoc.getIn(['providers'], true);
  const filePair = isMap(file) ? file.items.find((item) => isScalar(item.key) && item.key.value === 'file') : undefined;
  if (filePair === undefined || !isScalar(filePair.key)) throw new TypeError('templates/traefik/traefik.yml has no providers.file');
  filePair.key.commentBefore = ' Read at start, not watched: a changed dynamic.yml is a new swarm config, which rolls the traefik service.';
  const staticText = toYamlText(staticDoc);
  const dynamicText = renderDynamic(inputs);
  const staticKey = hashedKey('traefik-static', staticText);
  const dynamicKey = hashedKey('traefik-dynamic', dynamicText);

  const compose = (
    parse(renderCompose({ ...inputs, configHashes: { auth: '-', traefik: '-', ...Object.fromEntries(plan.bridges.map((b) => [b.service, '-'])) } })) as {
      services: Record<string, YamlMap>;
      volumes: Record<string, YamlMap>;
    }
  ).services['traefik'];
  if (compose === undefined) throw new TypeError('the compose file of router: traefik has no traefik service');
  const service = swarmService('traefik', compose, { plan, secrets: [], user: inputs.user });
  // The Docker socket and ./traefik stay on this host: the configuration comes as swarm configs.
  service['volumes'] = (service['volumes'] as YamlMap[]).filter((mount) => mount['type'] !== 'bind');
  service['configs'] = [
    { source: staticKey, target: '/etc/traefik/traefik.yml', mode: 0o444 },
    { source: dynamicKey, target: '/etc/traefik/dynamic.yml', mode: 0o444 },
  ];
  // 80 and 443 only: the dashboard's loopback port (deploy.dashboard) has no loopback on a swarm, it stays on the network.
  service['ports'] = (compose['ports'] as Array<{ target: number; published: number; protocol: string }>)
    .filter((port) => port.target === 80 || port.target === 443)
    .map((port) => ({ target: port.target, published: port.published, protocol: port.protocol, mode: 'host' }));
  // Only the router is behind it, on the default network; the bridges' networks are the router's alone.
  service['networks'] = ['default'];
  // One Traefik: its certificates are in a volume of the node it runs on, and it holds host-mode ports.
  service['deploy'] = deployBlock({ replicas: 1, labels: serviceLabels(compose), order: 'stop-first' });
  const labels = { 'io.mcp-gateway.project': plan.project };
  return {
    service,
    files: new Map([
      ['traefik/traefik.yml', staticText],
      ['traefik/dynamic.yml', dynamicText],
    ]),
    configs: {
      [staticKey]: { file: './traefik/traefik.yml', labels },
      [dynamicKey]: { file: './traefik/dynamic.yml', labels },
    },
    volumes: { letsencrypt: { labels } },
  };
}

/** One route: every public host name (the issuer's, each server's in the subdomain style) to the router, with a certificate for each. */
function renderDynamic({ config }: DeploymentFilesInputs): string {
  const urls = gatewayUrls(config);
  const hosts = [...new Set([urls.issuer, ...urls.serverNames.map((name) => urls.resourceFor(name))].map((url) => new URL(url).hostname))];
  const dynamic = {
    http: {
      routers: {
        gateway: { rule: hosts.map(host).join(' || '), entryPoints: ['websecure'], service: 'router', tls: { certResolver: 'letsencrypt' } },
      },
      services: { router: { loadBalancer: { servers: [{ url: ROUTER_URL }], passHostHeader: true } } },
    },
  };
  return [
    '# Traefik v3 dynamic configuration of an mcp-gateway swarm deployment, rendered by `mcp-gateway render --target swarm`.',
    '# TLS ends here; the built-in router behind it does ForwardAuth, CORS and the routes to the bridges.',
    stringify(dynamic, { lineWidth: 0 }).trimEnd(),
    '',
  ].join('\n');
}
