import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { planDeployment } from '../cli/deploy/deploy-plan.js';
import type { ServiceSecrets } from '../cli/deploy/deploy-secrets.js';
import { loadDeployTemplates } from '../cli/deploy/deploy-templates.js';
import { renderKubernetesFiles } from '../cli/deploy/kubernetes/render-kubernetes.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { PACKAGE_ROOT } from './helpers/cli-run.js';
import { TEST_IMAGES } from './helpers/deploy-fixtures.js';

/*
 * network-policies.yaml as a CNI would enforce it (kubernetes.io/docs/concepts/services-networking/network-policies):
 * a connection is allowed when the source's egress and the destination's ingress both allow it;
 * a pod that no policy of a direction selects is unrestricted in that direction; policies add
 * up. Pods are matched by their labels as rendered; other endpoints by an IPv4 address.
 */

type Obj = Record<string, any>;
type Endpoint = { pod: Record<string, string> } | { ip: string };

function ipv4(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}
function inCidr(ip: string, cidr: string): boolean {
  if (cidr.includes(':')) return false;
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

function selects(selector: Obj, labels: Record<string, string>): boolean {
  if (selector['matchExpressions'] !== undefined) throw new Error('matchExpressions are not evaluated here');
  return Object.entries(selector['matchLabels'] ?? {}).every(([key, value]) => labels[key] === value);
}

function peerMatches(peer: Obj, endpoint: Endpoint): boolean {
  if (peer['namespaceSelector'] !== undefined) throw new Error('namespaceSelector is not evaluated here');
  if (peer['podSelector'] !== undefined) return 'pod' in endpoint && selects(peer['podSelector'], endpoint.pod);
  const block = peer['ipBlock'];
  return 'ip' in endpoint && inCidr(endpoint.ip, block['cidr']) && !(block['except'] ?? []).some((except: string) => inCidr(endpoint.ip, except));
}

function ruleAllows(rule: Obj, peers: 'to' | 'from', other: Endpoint, port: number, protocol: string): boolean {
  const portOk = rule['ports'] === undefined || rule['ports'].some((p: Obj) => p['port'] === port && (p['protocol'] ?? 'TCP') === protocol);
  const list = rule[peers];
  return portOk && (list === undefined || list.length === 0 || list.some((peer: Obj) => peerMatches(peer, other)));
}

function sideAllows(policies: Obj[], type: 'Ingress' | 'Egress', self: Endpoint, other: Endpoint, port: number, protocol: string): boolean {
  if (!('pod' in self)) return true;
  const applying = policies.filter((p) => p['spec']['policyTypes'].includes(type) && selects(p['spec']['podSelector'], self.pod));
  if (applying.length === 0) return true;
  const key = type === 'Ingress' ? 'ingress' : 'egress';
  return applying.some((p) => (p['spec'][key] ?? []).some((rule: Obj) => ruleAllows(rule, type === 'Ingress' ? 'from' : 'to', other, port, protocol)));
}

function allowed(policies: Obj[], from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
  return sideAllows(policies, 'Egress', from, to, port, protocol) && sideAllows(policies, 'Ingress', to, from, port, protocol);
}

const SERVERS = {
  memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], replicas: 2 },
  docs: { url: 'https://docs.example.net/mcp' },
  sealed: { command: 'node', args: ['/opt/tools/server.mjs'], network: 'none' as const },
};

/** The policies, and every pod's labels, of one rendering. */
async function rendered(
  router: 'traefik' | 'builtin',
  store = 'redis://127.0.0.1:6379/0',
): Promise<{ policies: Obj[]; pods: Map<string, Record<string, string>> }> {
  const config = parseConfig(
    {
      publicUrl: 'https://mcp.example.com',
      provider: { type: 'local', user: 'alice' },
      allowedUsers: ['alice'],
      store: { type: 'redis', url: store },
      deploy: { router, email: 'ops@example.com' },
      servers: SERVERS,
    },
    'the test config',
  );
  const plan = planDeployment(config, '/srv/gw', 'kubernetes');
  const secrets: ServiceSecrets = new Map([
    ['auth', [['MCPGW_REDIS_PASSWORD', 'p']]],
    ['redis', [['REDIS_PASSWORD', 'p']]],
    ['router', [['MCPGW_SESSION_KEY', 'k']]],
  ]);
  const files = renderKubernetesFiles(
    { config, plan, templates: await loadDeployTemplates(PACKAGE_ROOT), images: TEST_IMAGES, logsDir: '../logs', user: '1000:1000' },
    secrets,
  );
  const objects = [...files.files]
    .filter(([path]) => path.endsWith('.yaml') && !path.includes('/config/') && !path.endsWith('kustomization.yaml'))
    .flatMap(([, text]) => parseAllDocuments(text).map((doc) => doc.toJS() as Obj));
  const pods = new Map<string, Record<string, string>>(
    objects
      .filter((o) => o['kind'] === 'Deployment' || o['kind'] === 'StatefulSet')
      .map((o) => [o['metadata']['name'], o['spec']['template']['metadata']['labels']] as [string, Record<string, string>]),
  );
  return { policies: objects.filter((o) => o['kind'] === 'NetworkPolicy'), pods };
}

const PORTS = [53, 6379, 8000, 8080, 8089, 9464];
const INGRESS_CONTROLLER = { ip: '10.42.1.5' };
const PUBLIC_HOST = { ip: '140.82.112.3' };
const CLUSTER_DNS = { ip: '10.96.0.10' };
const METADATA_ENDPOINT = { ip: '169.254.169.254' };

describe('the NetworkPolicies, evaluated', () => {
  it('let through exactly router -> auth, router -> every bridge (MCP and metrics), auth -> Redis between the pods', async () => {
    const { policies, pods } = await rendered('traefik');
    const intruder = { pod: { app: 'debug-shell' } };
    const endpoints = new Map<string, Endpoint>([...[...pods].map(([name, labels]) => [name, { pod: labels }] as [string, Endpoint]), ['intruder', intruder]]);
    const open: string[] = [];
    for (const [fromName, from] of endpoints) {
      for (const [toName, to] of endpoints) {
        if (fromName === toName) continue;
        for (const port of PORTS) if (allowed(policies, from, to, port)) open.push(`${fromName} -> ${toName}:${port}`);
      }
    }
    expect(open.sort()).toEqual(
      [
        'router -> auth:8000',
        'auth -> redis:6379',
        ...['bridge-docs', 'bridge-memory', 'bridge-sealed'].flatMap((bridge) => [`router -> ${bridge}:8000`, `router -> ${bridge}:9464`]),
      ].sort(),
    );
  });

  it('let the Ingress controller reach the router only', async () => {
    const { policies, pods } = await rendered('builtin');
    for (const [name, labels] of pods) {
      const reachable = PORTS.filter((port) => allowed(policies, INGRESS_CONTROLLER, { pod: labels }, port));
      expect(reachable, name).toEqual(name === 'router' ? [8080] : []);
    }
  });

  it('give a network: none server no egress at all, and the others DNS and the internet but not the cluster or the metadata endpoint', async () => {
    const { policies, pods } = await rendered('traefik');
    const egress = (name: string, to: Endpoint, port: number, protocol = 'TCP') => allowed(policies, { pod: pods.get(name)! }, to, port, protocol);
    for (const [to, port, protocol] of [
      [PUBLIC_HOST, 443, 'TCP'],
      [CLUSTER_DNS, 53, 'UDP'],
      [CLUSTER_DNS, 53, 'TCP'],
    ] as const) {
      expect(egress('bridge-sealed', to, port, protocol), `sealed -> ${to.ip}:${port}`).toBe(false);
    }
    for (const bridge of ['bridge-memory', 'bridge-docs']) {
      expect(egress(bridge, PUBLIC_HOST, 443)).toBe(true);
      expect(egress(bridge, CLUSTER_DNS, 53, 'UDP')).toBe(true);
      expect(egress(bridge, METADATA_ENDPOINT, 80)).toBe(false);
      expect(egress(bridge, { ip: '10.43.0.1' }, 443), 'the API server').toBe(false);
      expect(egress(bridge, { ip: '192.168.1.20' }, 6379)).toBe(false);
    }
    expect(egress('auth', PUBLIC_HOST, 443), 'the login provider').toBe(true);
    expect(egress('router', PUBLIC_HOST, 443)).toBe(false);
    expect(egress('redis', PUBLIC_HOST, 443)).toBe(false);
    expect(egress('redis', CLUSTER_DNS, 53, 'UDP')).toBe(false);
  });

  it("let cert-manager's HTTP-01 solver answer only when Let's Encrypt is used (router: traefik)", async () => {
    const solver = { pod: { 'acme.cert-manager.io/http01-solver': 'true' } };
    expect(allowed((await rendered('traefik')).policies, INGRESS_CONTROLLER, solver, 8089)).toBe(true);
    expect(allowed((await rendered('builtin')).policies, INGRESS_CONTROLLER, solver, 8089)).toBe(false);
  });

  it('let auth reach an external Redis on its port, wherever it is, when there is no Redis pod', async () => {
    const { policies, pods } = await rendered('builtin', 'redis://cache.internal.example:6380/0');
    expect(pods.has('redis')).toBe(false);
    expect(allowed(policies, { pod: pods.get('auth')! }, { ip: '10.20.30.40' }, 6380)).toBe(true);
    expect(allowed(policies, { pod: pods.get('auth')! }, { ip: '10.20.30.40' }, 6379)).toBe(false);
    expect(policies.some((p) => p['metadata']['name'] === 'redis')).toBe(false);
  });
});
