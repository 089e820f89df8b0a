import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { renderDeployment, type RenderedDeployment } from '../cli/deploy/render-deployment.js';
import { PACKAGE_ROOT } from './helpers/cli-run.js';
import { makeSampleProject, renderSampleFiles, sampleConfig, sampleConfigInput } from './helpers/deploy-fixtures.js';
import { expectGolden as expectGoldenIn } from './helpers/golden-files.js';

/*
 * Golden files pin what `render` writes for the sample project (test/helpers/deploy-fixtures.ts).
 * After an intended change, rewrite them and review the diff like code:
 *   UPDATE_GOLDEN=1 npx vitest run --project main test/render-golden
 */
const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));

const expectGolden = (name: string, actual: string): Promise<void> => expectGoldenIn(GOLDEN_DIR, name, actual);

/** What changes without the output changing meaning: the package version, the build-context hash in image tags, the temp folder of the project. */
function normalise(text: string, version: string, root: string): string {
  return text
    .replaceAll(root, '<root>')
    .replaceAll(version, '<version>')
    .replace(/(mcp-gateway-runtime-(?:node|python):<version>-)[0-9a-f]{12}\b/g, '$1<hash>');
}

/** The folder as a listing (build/app/ as one line): path, mode, and for env files the variables but never the values. */
async function describeTree(out: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const entry of (await readdir(join(out, relative), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const mode = ((await stat(join(out, path))).mode & 0o777).toString(8);
      if (entry.isDirectory()) {
        lines.push(`${path}/ ${mode}`);
        if (path !== 'build/app') await walk(path);
        continue;
      }
      const variables = path.endsWith('.env')
        ? (await readFile(join(out, path), 'utf8'))
            .split('\n')
            .filter((line) => /^[A-Z_]+=/.test(line))
            .map((line) => line.split('=', 1)[0])
        : [];
      lines.push(`${path} ${mode}${variables.length > 0 ? `  ${variables.join(' ')}` : ''}`);
    }
  };
  await walk('');
  return `${lines.join('\n')}\n`;
}

describe('rendered deploy folder of the sample project (path routing, Traefik)', () => {
  let root: string;
  let result: RenderedDeployment;
  let version: string;
  beforeAll(async () => {
    version = (JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const project = await makeSampleProject(sampleConfigInput({ routing: 'path', router: 'traefik' }));
    root = project.root;
    result = await renderDeployment(project.config, project.paths, { packageRoot: PACKAGE_ROOT, version, user: '1000:1000' });
  }, 180_000);
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.each([
    ['compose.yaml', 'path-traefik/compose.yaml'],
    ['traefik/traefik.yml', 'path-traefik/traefik.yml'],
    ['traefik/dynamic.yml', 'path-traefik/dynamic.yml'],
    ['config/mcp-gateway.yaml', 'path-traefik/mcp-gateway.yaml'],
    ['build/runtime-node.Dockerfile', 'runtime-node.Dockerfile'],
    ['build/runtime-python.Dockerfile', 'runtime-python.Dockerfile'],
  ])('%s is as pinned', async (path, golden) => {
    await expectGolden(golden, normalise(await readFile(join(result.out, path), 'utf8'), version, root));
  });

  it('holds the files of the contract, secrets 0600 in a 0700 folder', async () => {
    await expectGolden('path-traefik/tree.txt', await describeTree(result.out));
  });
});

describe('rendered files of the other shapes', () => {
  it('subdomain routing with Traefik: dynamic.yml', async () => {
    const files = await renderSampleFiles(sampleConfig({ routing: 'subdomain', router: 'traefik' }));
    await expectGolden('subdomain-traefik/dynamic.yml', files.get('traefik/dynamic.yml')!);
  });

  it('the built-in router: compose.yaml', async () => {
    const files = await renderSampleFiles(sampleConfig({ routing: 'subdomain', router: 'builtin' }));
    await expectGolden('subdomain-builtin/compose.yaml', files.get('compose.yaml')!);
  });

  it('network: none: the bridge without a network, its relay, the socket volume (compose.yaml)', async () => {
    const files = await renderSampleFiles(
      sampleConfig(
        { routing: 'path', router: 'builtin' },
        { sealed: { command: 'node', args: ['/opt/tools/server.mjs'], network: 'none' }, demo: { builtin: 'demo' } },
      ),
    );
    await expectGolden('network-none/compose.yaml', files.get('compose.yaml')!);
  });
});
