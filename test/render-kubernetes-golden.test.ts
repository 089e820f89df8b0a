import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planDeployment } from '../cli/deploy/deploy-plan.js';
import type { ServiceSecrets } from '../cli/deploy/deploy-secrets.js';
import { loadDeployTemplates } from '../cli/deploy/deploy-templates.js';
import { renderKubernetesFiles } from '../cli/deploy/kubernetes/render-kubernetes.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { PACKAGE_ROOT } from './helpers/cli-run.js';
import { TEST_IMAGES } from './helpers/deploy-fixtures.js';

/*
 * Golden files pin what `render --target kubernetes` writes for a representative project: a
 * stdio server with 2 replicas, a remote one with a secret header, a network: none one, a
 * Python one; once with Traefik (Let's Encrypt) and subdomain routing, once with the built-in
 * router and path routing. After an intended change, rewrite them and review the diff like code:
 *   UPDATE_GOLDEN=1 npx vitest run --project main test/render-kubernetes-golden
 */
const GOLDEN_DIR = fileURLToPath(new URL('./golden/kubernetes/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

const SHAPES = [
  { name: 'subdomain-traefik', routing: 'subdomain', router: 'traefik' },
  { name: 'path-builtin', routing: 'path', router: 'builtin' },
] as const;

async function renderShape({ routing, router }: (typeof SHAPES)[number]): Promise<Map<string, string>> {
  const config = parseConfig(
    {
      publicUrl: routing === 'path' ? 'https://mcp.example.com' : 'https://example.com',
      provider: { type: 'github', clientId: 'Iv1.0123abcd' },
      allowedUsers: ['alice'],
      store: { type: 'redis', url: 'redis://127.0.0.1:6379/0' },
      deploy: { routing, router, email: 'ops@example.com', replicas: { auth: 2, router: 2 } },
      servers: {
        memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], replicas: 2, limits: { memory: '512m', cpus: 0.5 } },
        docs: { url: 'https://docs.example.net/mcp', headers: ['Authorization'] },
        sealed: { command: 'node', args: ['/opt/tools/server.mjs'], network: 'none' },
        time: { command: 'uvx', args: ['mcp-server-time'] },
      },
    },
    'the golden config',
  );
  const plan = planDeployment(config, '/srv/gw', 'kubernetes');
  // The names collectServiceSecrets gives; values never reach the golden files.
  const secrets: ServiceSecrets = new Map([
    [
      'auth',
      ['MCPGW_SIGNING_KEYS', 'MCPGW_STATE_KEY', 'MCPGW_REDIS_PASSWORD', 'MCPGW_ADMIN_TOKEN', 'MCPGW_GITHUB_CLIENT_SECRET'].map(
        (name) => [name, 'secret'] as [string, string],
      ),
    ],
    ['redis', [['REDIS_PASSWORD', 'secret']]],
    ['router', [['MCPGW_SESSION_KEY', 'secret']]],
    ['bridge-docs', [['MCPGW_UPSTREAM_HEADERS', '{}']]],
    ['bridge-memory', []],
    ['bridge-sealed', []],
    ['bridge-time', []],
  ]);
  const rendered = renderKubernetesFiles(
    { config, plan, templates: await loadDeployTemplates(PACKAGE_ROOT), images: TEST_IMAGES, logsDir: '../logs', user: '1000:1000' },
    secrets,
  );
  const files = new Map([...rendered.files].map(([path, text]) => [path.replace(/^kubernetes\//, ''), text] as const));
  // The secret files as a listing: path and variable names, never a value.
  const listing = [...rendered.secretFiles].map(
    ([path, text]) =>
      `${path.replace(/^kubernetes\//, '')} (0600)  ${text
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => line.split('=', 1)[0])
        .join(' ')}`,
  );
  files.set('secrets.txt', `${listing.join('\n')}\n`);
  return files;
}

async function goldenFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe.each(SHAPES)('rendered Kubernetes manifests: $name', (shape) => {
  it('are as pinned, file for file', async () => {
    const files = await renderShape(shape);
    const dir = join(GOLDEN_DIR, shape.name);
    if (UPDATE) {
      await rm(dir, { recursive: true, force: true });
      for (const [path, text] of files) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      return;
    }
    expect(await goldenFiles(dir), `test/golden/kubernetes/${shape.name}: run with UPDATE_GOLDEN=1 after an intended change`).toEqual([...files.keys()].sort());
    for (const [path, text] of files) {
      const expected = await readFile(join(dir, path), 'utf8');
      expect(text, `test/golden/kubernetes/${shape.name}/${path} differs; if the change is intended, run with UPDATE_GOLDEN=1 and review the diff`).toBe(
        expected,
      );
    }
  });
});
