import { ClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Namespace, Service } from 'kubernetes-models/v1';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { rm } from 'node:fs/promises';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { planDeployment } from '../cli/deploy/deploy-plan.js';
import type { ServiceSecrets } from '../cli/deploy/deploy-secrets.js';
import { loadDeployTemplates, type DeployTemplates } from '../cli/deploy/deploy-templates.js';
import { renderKubernetesFiles } from '../cli/deploy/kubernetes/render-kubernetes.js';
import { formatKustomizeEnvFile } from '../cli/deploy/kubernetes/kustomize-env-file.js';
import { COMPOSE_HEADER_MARK } from '../cli/deploy/render-compose.js';
import { RENDERED_DESCRIPTIONS } from '../cli/deploy/render-deployment.js';
import type { TargetFiles } from '../cli/deploy/deploy-target.js';
import { collectServiceSecrets } from '../cli/deploy/deploy-secrets.js';
import { parseConfig } from '../runtime/config/load-config.js';
import type { GatewayConfig, GatewayConfigInput } from '../runtime/config/schema.js';
import { PACKAGE_ROOT } from './helpers/cli-run.js';
import { makeSampleProject, TEST_IMAGES } from './helpers/deploy-fixtures.js';
import { restrictedViolations, type PodLike } from './helpers/pod-security-restricted.js';

/*
 * `render --target kubernetes`. No cluster exists here: kubernetes-models' Kubernetes API schemas
 * (and cert-manager's, for the ClusterIssuer) stand in for the API server, a port of the Pod
 * Security admission checks (test/helpers/pod-security-restricted.ts) for the namespace's
 * `enforce: restricted`, and a NetworkPolicy evaluator below for the CNI.
 */

/** One server of each shape: 2 replicas (stdio, node), remote with a secret header, network: none, Python. */
const SERVERS: GatewayConfigInput['servers'] = {
  memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], replicas: 2, limits: { memory: '512m', cpus: 0.5 } },
  docs: { url: 'https://docs.example.net/mcp', headers: ['Authorization'] },
  sealed: { command: 'node', args: ['/opt/tools/server.mjs'], network: 'none' },
  time: { command: 'uvx', args: ['mcp-server-time'] },
};

type Shape = { routing: 'path' | 'subdomain'; router: 'traefik' | 'builtin'; store?: string };

function configInput({ routing, router, store = 'redis://127.0.0.1:6379/0' }: Shape, servers = SERVERS): GatewayConfigInput {
  return {
    publicUrl: routing === 'path' ? 'https://mcp.example.com' : 'https://example.com',
    provider: { type: 'github', clientId: 'Iv1.0123abcd' },
    allowedUsers: ['alice'],
    // Replicas need a shared store; a loopback Redis is the operator's own, so the deployment brings one.
    store: { type: 'redis', url: store },
    deploy: { routing, router, email: 'ops@example.com', replicas: { auth: 2, router: 3 }, drainPeriod: '45s' },
    servers,
  };
}

/** What collectServiceSecrets returns for SERVERS (names as there, values made up). */
function fakeSecrets(config: GatewayConfig): ServiceSecrets {
  const secrets: ServiceSecrets = new Map([
    [
      'auth',
      [
        ['MCPGW_SIGNING_KEYS', '{"keys":[{"kid":"k1"}]}'],
        ['MCPGW_STATE_KEY', 'state-key-value'],
        ['MCPGW_REDIS_PASSWORD', 'redis-password-value'],
        ['MCPGW_ADMIN_TOKEN', 'admin-token-value'],
        ['MCPGW_GITHUB_CLIENT_SECRET', 'github-secret-value'],
      ],
    ],
    ['redis', [['REDIS_PASSWORD', 'redis-password-value']]],
    ['router', [['MCPGW_SESSION_KEY', 'session-key-value']]],
  ]);
  for (const name of Object.keys(config.servers))
    secrets.set(`bridge-${name}`, name === 'docs' ? [['MCPGW_UPSTREAM_HEADERS', '{"Authorization":"Bearer x"}']] : []);
  return secrets;
}

let templates: DeployTemplates;
beforeAll(async () => {
  templates = await loadDeployTemplates(PACKAGE_ROOT);
});

function render(config: GatewayConfig, options: { secrets?: ServiceSecrets; user?: string } = {}): TargetFiles {
  const plan = planDeployment(config, '/srv/gw', 'kubernetes');
  return renderKubernetesFiles(
    { config, plan, templates, images: TEST_IMAGES, logsDir: '../logs', user: options.user ?? '1000:1000' },
    options.secrets ?? fakeSecrets(config),
  );
}

type Obj = Record<string, any>;

/** Every object of every manifest file, parsed as kubectl's YAML 1.1 reader would. */
function manifests(files: TargetFiles): Obj[] {
  return [...files.files]
    .filter(([path]) => path.endsWith('.yaml') && !path.startsWith('kubernetes/config/') && path !== 'kubernetes/kustomization.yaml')
    .flatMap(([path, text]) =>
      parseAllDocuments(text, { version: '1.1' }).map((doc) => {
        expect(doc.errors, path).toEqual([]);
        return doc.toJS() as Obj;
      }),
    );
}

const find = (objects: Obj[], kind: string, name: string): Obj => {
  const found = objects.find((o) => o['kind'] === kind && o['metadata']?.['name'] === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};
const podTemplates = (objects: Obj[]): Array<{ name: string; pod: PodLike }> =>
  objects.filter((o) => o['kind'] === 'Deployment' || o['kind'] === 'StatefulSet').map((o) => ({ name: o['metadata']['name'], pod: o['spec']['template'] }));
const container = (objects: Obj[], name: string): IContainer => (find(objects, 'Deployment', name)['spec']['template']['spec'] as IPodSpec).containers[0]!;
const envOf = (c: IContainer): Record<string, unknown> => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Namespace,
  Service,
  Deployment,
  StatefulSet,
  PodDisruptionBudget,
  NetworkPolicy,
  Ingress,
  ClusterIssuer,
};

const SHAPES: Shape[] = [
  { routing: 'subdomain', router: 'traefik' },
  { routing: 'path', router: 'builtin' },
  { routing: 'path', router: 'traefik', store: 'rediss://cache.internal.example:6380/2' },
];

describe.each(SHAPES)('$routing routing, $router router, store $store', (shape) => {
  let files: TargetFiles;
  let objects: Obj[];
  beforeAll(() => {
    files = render(parseConfig(configInput(shape), 'the test config'));
    objects = manifests(files);
  });

  it('every manifest validates against the Kubernetes API schemas', () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) {
      const Model = MODELS[object['kind']];
      expect(Model, `a model for ${object['kind']}`).toBeDefined();
      expect(() => new Model!(object as never).validate(), `${object['kind']} ${object['metadata']?.['name']}`).not.toThrow();
    }
  });

  it('every pod template meets the restricted Pod Security profile', () => {
    const pods = podTemplates(objects);
    expect(pods.length).toBeGreaterThanOrEqual(6);
    for (const { name, pod } of pods) expect(restrictedViolations(pod), name).toEqual([]);
    const namespace = find(objects, 'Namespace', 'mcpgw-gw');
    expect(namespace['metadata']['labels']['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('the kustomization marks the folder, lists every manifest and generates every ConfigMap and Secret a pod reads, with its keys', () => {
    const text = files.files.get('kubernetes/kustomization.yaml')!;
    expect(text.split('\n')[0]).toContain(COMPOSE_HEADER_MARK);
    expect(RENDERED_DESCRIPTIONS).toContain('kubernetes/kustomization.yaml');
    const kustomization = parse(text, { version: '1.1' }) as Obj;
    expect(kustomization['namespace']).toBe('mcpgw-gw');
    const manifestFiles = [...files.files.keys()]
      .filter((p) => !p.includes('/config/') && p !== 'kubernetes/kustomization.yaml')
      .map((p) => p.slice('kubernetes/'.length));
    expect(kustomization['resources']).toEqual(manifestFiles);
    const configMaps = new Map<string, string>(
      kustomization['configMapGenerator'].map((g: Obj) => [g['name'], g['files'][0].split('=')[1]] as [string, string]),
    );
    const secrets = new Map<string, string>(kustomization['secretGenerator'].map((g: Obj) => [g['name'], g['envs'][0]] as [string, string]));
    for (const path of configMaps.values()) expect(files.files.has(`kubernetes/${path}`), path).toBe(true);
    for (const path of secrets.values()) expect(files.secretFiles.has(`kubernetes/${path}`), path).toBe(true);
    for (const { name, pod } of podTemplates(objects)) {
      for (const volume of pod.spec.volumes ?? [])
        if (volume.configMap) expect(configMaps.has(volume.configMap.name!), `${name}: ${volume.configMap.name}`).toBe(true);
      for (const variable of pod.spec.containers.flatMap((c) => c.env ?? [])) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (ref === undefined) continue;
        const envFile = files.secretFiles.get(`kubernetes/${secrets.get(ref.name!)}`);
        expect(envFile, `${name}: Secret ${ref.name}`).toBeDefined();
        expect(
          envFile!.split('\n').some((line) => line.startsWith(`${ref.key}=`)),
          `${name}: ${ref.name} has ${ref.key}`,
        ).toBe(true);
      }
    }
  });

  it('runs auth and the router with the replicas of deploy.replicas, each bridge with its own', () => {
    expect(find(objects, 'Deployment', 'auth')['spec']['replicas']).toBe(2);
    expect(find(objects, 'Deployment', 'router')['spec']['replicas']).toBe(3);
    expect(find(objects, 'Deployment', 'bridge-memory')['spec']['replicas']).toBe(2);
    expect(find(objects, 'Deployment', 'bridge-docs')['spec']['replicas']).toBe(1);
    for (const name of ['auth', 'router', 'bridge-memory', 'bridge-docs', 'bridge-sealed', 'bridge-time']) {
      expect(find(objects, 'PodDisruptionBudget', name)['spec']).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'io.mcp-gateway.service': name } } });
    }
  });

  it('gives every bridge a headless Service bridge-NAME on port 8000, so each replica is addressable', () => {
    for (const server of Object.keys(SERVERS)) {
      const spec = find(objects, 'Service', `bridge-${server}`)['spec'];
      expect(spec['clusterIP']).toBe('None');
      expect(spec['ports']).toContainEqual({ name: 'http', port: 8000, targetPort: 'http', protocol: 'TCP' });
      expect(spec['selector']).toEqual({ 'io.mcp-gateway.service': `bridge-${server}` });
    }
  });

  it('starts the router as the runtime contract says, with the session key from its Secret', () => {
    const router = container(objects, 'router');
    expect(router.command).toEqual(['/usr/local/bin/node', '/app/bin/mcp-gateway.js', 'runtime', 'router']);
    expect(envOf(router)).toEqual({
      MCPGW_CONFIG: '/config/mcp-gateway.yaml',
      MCPGW_LISTEN: '0.0.0.0:8080',
      MCPGW_AUTH_URL: 'http://auth:8000',
      MCPGW_BRIDGE_URL: 'http://bridge-{name}:8000',
      MCPGW_METRICS_LISTEN: '0.0.0.0:9464',
      MCPGW_SESSION_KEY: { secretKeyRef: { name: 'router-secrets', key: 'MCPGW_SESSION_KEY' } },
    });
  });

  it('starts each bridge with its drain period, a grace period covering it, and only its own config and secrets', () => {
    const deploymentOf = (server: string) => find(objects, 'Deployment', `bridge-${server}`)['spec']['template']['spec'] as IPodSpec;
    const memory = deploymentOf('memory');
    const bridge = memory.containers[0]!;
    expect(bridge.command).toEqual(['/usr/local/bin/node', '/app/bin/mcp-gateway.js', 'runtime', 'bridge', 'memory']);
    expect(envOf(bridge)).toMatchObject({ MCPGW_LISTEN: '0.0.0.0:8000', MCPGW_DRAIN_MS: '45000', HOME: '/srv/gw/.mcp-gateway/servers/memory' });
    expect(bridge.workingDir).toBe('/srv/gw/.mcp-gateway/servers/memory');
    // ceil((45 s drain + 10 s shutdownGrace) / 1 s) + 5
    expect(memory.terminationGracePeriodSeconds).toBe(60);
    expect(bridge.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
    expect(envOf(deploymentOf('docs').containers[0]!)['MCPGW_UPSTREAM_HEADERS']).toEqual({
      secretKeyRef: { name: 'bridge-docs-secrets', key: 'MCPGW_UPSTREAM_HEADERS' },
    });
    expect(Object.keys(envOf(bridge)).filter((name) => !['HOME', 'UV_CACHE_DIR'].includes(name) && !name.startsWith('MCPGW_'))).toEqual([]);
    expect(envOf(bridge)['MCPGW_UPSTREAM_HEADERS']).toBeUndefined();
    expect(deploymentOf('time').containers[0]!.image).toBe(TEST_IMAGES.python.tag);
    expect(bridge.image).toBe(TEST_IMAGES.node.tag);
    const own = parse(files.files.get('kubernetes/config/bridges/memory/mcp-gateway.yaml')!) as Obj;
    expect(Object.keys(own['servers'])).toEqual(['memory']);
  });

  it('probes each runtime on its own port: liveness /health, readiness /health?ready=1', () => {
    for (const [name, port] of [
      ['auth', 8000],
      ['router', 8080],
      ['bridge-memory', 8000],
    ] as const) {
      const c = container(objects, name);
      expect(c.ports?.find((p) => p.name === 'http')?.containerPort, name).toBe(port);
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/health?ready=1', port: 'http' });
    }
  });

  it('gives auth the secrets of compose secrets/auth.env, by name only', () => {
    const auth = container(objects, 'auth');
    expect(auth.command).toEqual(['/usr/local/bin/node', '/app/bin/mcp-gateway.js', 'runtime', 'auth']);
    const fromSecret = (auth.env ?? []).filter((e) => e.valueFrom !== undefined).map((e) => e.name);
    expect(fromSecret).toEqual(['MCPGW_SIGNING_KEYS', 'MCPGW_STATE_KEY', 'MCPGW_REDIS_PASSWORD', 'MCPGW_ADMIN_TOKEN', 'MCPGW_GITHUB_CLIENT_SECRET']);
    for (const [path, text] of files.files) {
      for (const value of ['state-key-value', 'redis-password-value', 'admin-token-value', 'github-secret-value', 'session-key-value']) {
        expect(text.includes(value), `${path} holds a secret`).toBe(false);
      }
    }
  });
});

describe('the store', () => {
  it('deploys Redis (StatefulSet, Service, password from its Secret) when the config names no external one', () => {
    const files = render(parseConfig(configInput({ routing: 'path', router: 'builtin' }), 'test'));
    const objects = manifests(files);
    const redis = find(objects, 'StatefulSet', 'redis')['spec'];
    expect(redis['template']['spec']['containers'][0]['args']).toContain('$(REDIS_PASSWORD)');
    expect(redis['volumeClaimTemplates'][0]['spec']['accessModes']).toEqual(['ReadWriteOnce']);
    expect(find(objects, 'Service', 'redis')['spec']['ports']).toEqual([{ name: 'redis', port: 6379, targetPort: 'redis', protocol: 'TCP' }]);
    expect((parse(files.files.get('kubernetes/config/mcp-gateway.yaml')!) as Obj)['store']['url']).toBe('redis://redis:6379/0');
    expect(files.secretFiles.has('kubernetes/secrets/redis.env')).toBe(true);
  });

  it('deploys no Redis and keeps the URL of an external one', () => {
    const files = render(parseConfig(configInput({ routing: 'path', router: 'builtin', store: 'rediss://cache.internal.example:6380/2' }), 'test'));
    expect(files.files.has('kubernetes/redis.yaml')).toBe(false);
    expect(files.secretFiles.has('kubernetes/secrets/redis.env')).toBe(false);
    const config = parse(files.files.get('kubernetes/config/mcp-gateway.yaml')!) as Obj;
    expect(config['store']).toEqual({ type: 'redis', url: 'rediss://cache.internal.example:6380/2', keyPrefix: 'mcpgw:' });
    const auth = find(manifests(files), 'NetworkPolicy', 'auth')['spec'];
    expect(auth['egress']).toContainEqual({ ports: [{ protocol: 'TCP', port: 6380 }] });
  });
});

describe('the Ingress', () => {
  it("with router: traefik: HTTPS only, a cert-manager certificate for the issuer and every server's host, *.domain routed", () => {
    const objects = manifests(render(parseConfig(configInput({ routing: 'subdomain', router: 'traefik' }), 'test')));
    const ingress = find(objects, 'Ingress', 'gateway');
    expect(ingress['spec']['ingressClassName']).toBe('traefik');
    expect(ingress['metadata']['annotations']['cert-manager.io/cluster-issuer']).toBe('mcpgw-gw-letsencrypt');
    expect(ingress['spec']['rules'].map((rule: Obj) => rule['host'])).toEqual(['example.com', '*.example.com']);
    expect(ingress['spec']['tls']).toEqual([
      {
        hosts: ['example.com', 'memory.example.com', 'docs.example.com', 'sealed.example.com', 'time.example.com'].sort(sortLikePlan),
        secretName: 'gateway-tls',
      },
    ]);
    for (const rule of ingress['spec']['rules']) expect(rule['http']['paths'][0]['backend']).toEqual({ service: { name: 'router', port: { name: 'http' } } });
    expect(find(objects, 'ClusterIssuer', 'mcpgw-gw-letsencrypt')['spec']['acme']['email']).toBe('ops@example.com');
  });

  it('with router: builtin: the same routes to the router, no TLS and no issuer', () => {
    const files = render(parseConfig(configInput({ routing: 'path', router: 'builtin' }), 'test'));
    const ingress = find(manifests(files), 'Ingress', 'gateway');
    expect(ingress['spec']['tls']).toBeUndefined();
    expect(ingress['metadata']['annotations']).toBeUndefined();
    expect(ingress['spec']['rules'].map((rule: Obj) => rule['host'])).toEqual(['mcp.example.com']);
    expect(files.files.has('kubernetes/cluster-issuer.yaml')).toBe(false);
  });
});

/** planDeployment sorts bridges by server name; the certificate's hosts follow the issuer's. */
function sortLikePlan(a: string, b: string): number {
  if (a === 'example.com') return -1;
  if (b === 'example.com') return 1;
  return a < b ? -1 : 1;
}

describe('the rendering', () => {
  it('the schema check is live: a Deployment the API server would refuse fails it', () => {
    const objects = manifests(render(parseConfig(configInput({ routing: 'path', router: 'builtin' }), 'test')));
    const broken = structuredClone(find(objects, 'Deployment', 'auth'));
    broken['spec']['replicas'] = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/);
  });

  it('is deterministic and does not depend on the order of the servers in the YAML', () => {
    const reversed = Object.fromEntries(Object.entries(SERVERS).reverse());
    const a = render(parseConfig(configInput({ routing: 'subdomain', router: 'traefik' }), 'test'));
    const b = render(parseConfig(configInput({ routing: 'subdomain', router: 'traefik' }, reversed), 'test'));
    // The configs keep the YAML's order of servers (they are the project's own text); the manifests do not.
    const manifestsOnly = (files: TargetFiles) => [...files.files].filter(([path]) => !path.includes('/config/'));
    expect(manifestsOnly(b)).toEqual(manifestsOnly(a));
    expect([...a.files.keys()]).toEqual([...a.files.keys()].sort());
  });

  it('names the namespace after the project, made an RFC 1123 label', () => {
    const config = parseConfig({ ...configInput({ routing: 'path', router: 'builtin' }), deploy: { router: 'builtin', project: 'my_gw_' } }, 'test');
    const objects = manifests(render(config));
    expect(find(objects, 'Namespace', 'my-gw')).toBeDefined();
    expect(objects.filter((o) => o['kind'] !== 'Namespace').every((o) => o['metadata']['namespace'] === 'my-gw')).toBe(true);
  });

  it('runs the pods as 1000 when render runs as root, never as 0', () => {
    const objects = manifests(render(parseConfig(configInput({ routing: 'path', router: 'builtin' }), 'test'), { user: '0:0' }));
    for (const { name, pod } of podTemplates(objects)) {
      expect(pod.spec.securityContext, name).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
      expect(restrictedViolations(pod), name).toEqual([]);
    }
    const other = manifests(render(parseConfig(configInput({ routing: 'path', router: 'builtin' }), 'test'), { user: '1234:5678' }));
    expect(find(other, 'Deployment', 'auth')['spec']['template']['spec']['securityContext']).toMatchObject({ runAsUser: 1234, runAsGroup: 5678 });
  });

  it('refuses servers.NAME.mounts: host paths are forbidden in a restricted pod', () => {
    const config = parseConfig(
      configInput({ routing: 'path', router: 'builtin' }, { files: { command: 'node', args: ['x.mjs'], mounts: [{ path: '/srv/data' }] } }),
      'test',
    );
    expect(() => render(config)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining('servers.files.mounts') }));
  });

  it("renders the project's real secrets (collectServiceSecrets) into env files only", async () => {
    const project = await makeSampleProject(configInput({ routing: 'path', router: 'traefik' }));
    onTestFinished(() => rm(project.root, { recursive: true, force: true }));
    const plan = planDeployment(project.config, project.paths.dir, 'kubernetes');
    const secrets = await collectServiceSecrets(project.config, project.paths, plan);
    const files = renderKubernetesFiles({ config: project.config, plan, templates, images: TEST_IMAGES, logsDir: '../logs', user: '1000:1000' }, secrets);
    expect([...files.secretFiles.keys()]).toEqual([
      'kubernetes/secrets/auth.env',
      'kubernetes/secrets/bridge-docs.env',
      'kubernetes/secrets/redis.env',
      'kubernetes/secrets/router.env',
    ]);
    const values = [...secrets.values()].flat().map(([, value]) => value);
    for (const [path, text] of files.files) for (const value of values) expect(text.includes(value), `${path} holds a secret`).toBe(false);
    for (const [service, entries] of secrets) {
      if (entries.length === 0) continue;
      expect(parseEnvFile(files.secretFiles.get(`kubernetes/secrets/${service}.env`)!), service).toEqual(Object.fromEntries(entries));
    }
  });
});

/** An env file as kustomize reads it (api/kv/kv.go): comments and blank lines skipped, the value literal after the first `=`. */
function parseEnvFile(text: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    pairs[line.slice(0, at)] = line.slice(at + 1);
  }
  return pairs;
}

describe('secrets in kustomize env files', () => {
  it('writes quotes, backslashes, #, = and spaces literally', () => {
    const value = ` it's "quoted" \\ # not a comment = still the value\\`;
    expect(parseEnvFile(formatKustomizeEnvFile('auth', [['MCPGW_ADMIN_TOKEN', value]]))).toEqual({ MCPGW_ADMIN_TOKEN: value });
  });

  it.each([
    ['a line break', 'line one\nKUBE=injected'],
    ['a carriage return', 'value\r'],
    ['a NUL', 'a\0b'],
    ['a lone surrogate', 'a\uD800b'],
    ['a line longer than kustomize reads', 'x'.repeat(64 * 1024)],
  ])('refuses a value with %s (ERR_SECRET_UNSAFE)', (_what, value) => {
    expect(() => formatKustomizeEnvFile('auth', [['MCPGW_ADMIN_TOKEN', value]])).toThrow(expect.objectContaining({ code: 'ERR_SECRET_UNSAFE' }));
  });

  it('refuses a secret with a line break when rendering, before any file exists', () => {
    const config = parseConfig(configInput({ routing: 'path', router: 'builtin' }), 'test');
    const secrets = fakeSecrets(config);
    secrets.set('router', [['MCPGW_SESSION_KEY', 'abc\nMCPGW_OTHER=1']]);
    expect(() => render(config, { secrets })).toThrow(expect.objectContaining({ code: 'ERR_SECRET_UNSAFE' }));
  });
});
