import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { planDeployment } from '../cli/deploy/deploy-plan.js';
import type { ServiceSecrets } from '../cli/deploy/deploy-secrets.js';
import type { TargetFiles } from '../cli/deploy/deploy-target.js';
import { loadDeployTemplates } from '../cli/deploy/deploy-templates.js';
import { renderKubernetesFiles } from '../cli/deploy/kubernetes/render-kubernetes.js';
import { parseConfig } from '../runtime/config/load-config.js';
import type { GatewayConfigInput } from '../runtime/config/schema.js';
import { PACKAGE_ROOT } from './helpers/cli-run.js';
import { TEST_IMAGES } from './helpers/deploy-fixtures.js';

/*
 * Values of the config that look like YAML, or that a YAML 1.1 reader (kubectl's) takes for
 * something else, reach the manifests as the same strings: every file is written by the yaml
 * library, never by joining strings, and read back here the way kubectl reads it.
 */

type Obj = Record<string, any>;

async function render(input: Partial<GatewayConfigInput>): Promise<TargetFiles> {
  const config = parseConfig(
    { publicUrl: 'https://mcp.example.com', provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'], deploy: { router: 'builtin' }, ...input },
    'the test config',
  );
  const plan = planDeployment(config, '/srv/gw', 'kubernetes');
  const secrets: ServiceSecrets = new Map([
    ['auth', [['MCPGW_REDIS_PASSWORD', 'p']]],
    ['redis', [['REDIS_PASSWORD', 'p']]],
    ['router', [['MCPGW_SESSION_KEY', 'k']]],
  ]);
  return renderKubernetesFiles(
    { config, plan, templates: await loadDeployTemplates(PACKAGE_ROOT), images: TEST_IMAGES, logsDir: '../logs', user: '1000:1000' },
    secrets,
  );
}

/**
 * A file as kubectl reads it (YAML 1.1: `y`, `on`, `no` are booleans, `012` octal) and as
 * kustomize's kyaml does (YAML 1.2: `0o17` octal); both must read the same objects.
 */
function documents(files: TargetFiles, path: string): Obj[] {
  const text = files.files.get(path);
  if (text === undefined) throw new Error(`no ${path}`);
  const [v11, v12] = (['1.1', '1.2'] as const).map((version) =>
    parseAllDocuments(text, { version }).map((doc) => {
      expect(doc.errors, path).toEqual([]);
      return doc.toJS() as Obj;
    }),
  );
  expect(v12, `${path} reads the same in YAML 1.1 and 1.2`).toEqual(v11);
  return v11!;
}

/** Server names the config accepts that YAML 1.1 reads as booleans, null, or numbers (decimal, octal, hex, float, sexagesimal-free). */
const AMBIGUOUS_NAMES = ['y', 'n', 'on', 'off', 'yes', 'no', 'null', 'true', '123', '012', '0x1f', '1e3', '0o17', '1-2'];

describe('hostile values in the manifests', () => {
  it.each(AMBIGUOUS_NAMES)('a server named %s stays the string %s in every field that names it', async (name) => {
    const files = await render({ servers: { [name]: { command: 'npx', args: ['-y', 'x'] } } });
    const [headless, deployment, budget] = documents(files, `kubernetes/bridges/${name}.yaml`) as [Obj, Obj, Obj];
    expect(headless['metadata']['name']).toBe(`bridge-${name}`);
    expect(deployment['metadata']['labels']['io.mcp-gateway.server']).toBe(name);
    expect(deployment['spec']['template']['spec']['containers'][0]['command'][4]).toBe(name);
    expect(budget['spec']['selector']['matchLabels']['io.mcp-gateway.service']).toBe(`bridge-${name}`);
    expect(() => new Deployment(deployment as never).validate()).not.toThrow();
    expect(() => new Service(headless as never).validate()).not.toThrow();
    const kustomization = documents(files, 'kubernetes/kustomization.yaml')[0]!;
    expect(kustomization['resources']).toContain(`bridges/${name}.yaml`);
    expect(kustomization['configMapGenerator'].map((g: Obj) => g['name'])).toContain(`bridge-${name}-config`);
  });

  it('an image reference with YAML in it is one value, not a new document', async () => {
    const image = 'redis:7\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n# ';
    const files = await render({ deploy: { router: 'builtin', redisImage: image } });
    const docs = documents(files, 'kubernetes/redis.yaml');
    expect(docs.map((d) => d['kind'])).toEqual(['Service', 'StatefulSet']);
    expect(docs[1]!['spec']['template']['spec']['containers'][0]['image']).toBe(image);
    expect(() => new StatefulSet(docs[1] as never).validate()).not.toThrow();
  });

  it("a server's env values with YAML in them stay the server's values in its config", async () => {
    const value = 'x\n---\nservers: {evil: {command: sh}}\n#: on';
    const files = await render({ servers: { tool: { command: 'npx', args: ['-y', '--', 'a: b', '{{x}}'], env: { TOKEN_HINT: value } } } });
    const own = parse(files.files.get('kubernetes/config/bridges/tool/mcp-gateway.yaml')!) as Obj;
    expect(Object.keys(own['servers'])).toEqual(['tool']);
    expect(own['servers']['tool']['env']).toEqual({ TOKEN_HINT: value });
    expect(own['servers']['tool']['args']).toEqual(['-y', '--', 'a: b', '{{x}}']);
  });
});
