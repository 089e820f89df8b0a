import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNewKeyFile } from '../../runtime/auth/tokens/signing-keys.js';
import { parseConfig } from '../../runtime/config/load-config.js';
import { projectPaths, type ProjectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig, GatewayConfigInput } from '../../runtime/config/schema.js';
import { writeSecret } from '../../runtime/config/secrets.js';
import { writeServerHeaders } from '../../runtime/config/server-headers.js';
import { writeConfig } from '../../runtime/config/write-config.js';
import { planDeployment, type RuntimeKind } from '../../cli/deploy/deploy-plan.js';
import { loadDeployTemplates } from '../../cli/deploy/deploy-templates.js';
import type { RuntimeImage } from '../../cli/deploy/render-compose.js';
import { renderDeploymentFiles } from '../../cli/deploy/render-deployment.js';
import { PACKAGE_ROOT } from './cli-run.js';

/** One server of each kind: Python (uvx), node (npx), built-in, and remote with a secret header. */
export const SAMPLE_SERVERS: GatewayConfigInput['servers'] = {
  time: { command: 'uvx', args: ['mcp-server-time'], description: 'Current time and time-zone conversion' },
  memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] },
  demo: { builtin: 'demo' },
  docs: { url: 'https://docs.example.net/mcp', headers: ['Authorization'] },
};

export type DeployShape = { routing: 'path' | 'subdomain'; router: 'traefik' | 'builtin' };

/** The sample project: path style at mcp.example.com, subdomain style under example.com (time.example.com/mcp). */
export function sampleConfigInput({ routing, router }: DeployShape, servers: GatewayConfigInput['servers'] = SAMPLE_SERVERS): GatewayConfigInput {
  return {
    publicUrl: routing === 'path' ? 'https://mcp.example.com' : 'https://example.com',
    provider: { type: 'github', clientId: 'Iv1.0123abcd' },
    allowedUsers: ['alice'],
    deploy: { routing, router, email: 'ops@example.com' },
    servers,
  };
}

export function sampleConfig(shape: DeployShape, servers?: GatewayConfigInput['servers']): GatewayConfig {
  return parseConfig(sampleConfigInput(shape, servers), 'the sample config');
}

/** Stand-ins for the tags `writeBuildContext` computes from the build context. */
export const TEST_IMAGES: Readonly<Record<RuntimeKind, RuntimeImage>> = {
  node: {
    tag: 'mcp-gateway-runtime-node:0.0.0-test',
    build: { context: './build', dockerfile: 'runtime-node.Dockerfile', args: { BASE_IMAGE: 'node:20-bookworm-slim' } },
  },
  python: {
    tag: 'mcp-gateway-runtime-python:0.0.0-test',
    build: { context: './build', dockerfile: 'runtime-python.Dockerfile', args: { NODE_IMAGE: 'node:20-bookworm-slim', PYTHON_IMAGE: 'python:3.12-slim' } },
  },
};

/** compose.yaml, config/ and traefik/ of a config, without copying the package (no build/, no secrets). */
export async function renderSampleFiles(config: GatewayConfig, projectDir = '/srv/gw'): Promise<Map<string, string>> {
  return renderDeploymentFiles({
    config,
    plan: planDeployment(config, projectDir),
    templates: await loadDeployTemplates(PACKAGE_ROOT),
    images: TEST_IMAGES,
    logsDir: '../logs',
    user: '1000:1000',
  });
}

export const SAMPLE_SECRETS = {
  githubClientSecret: 'gh-secret-5b1e0c7a9d',
  docsAuthorization: "Bearer sk-docs-7f3a'91",
};

/**
 * A project folder `<tmp>/gw` (so the project name is mcpgw-gw) with the config and every
 * secret the sample needs in `.secrets/`, as init and add-server would leave them.
 */
export async function makeSampleProject(input: GatewayConfigInput): Promise<{ root: string; paths: ProjectPaths; config: GatewayConfig }> {
  const root = await mkdtemp(join(tmpdir(), 'mcp-gateway-render-'));
  const paths = projectPaths(join(root, 'gw'));
  await mkdir(paths.dir);
  const config = await writeConfig(paths.dir, input);
  await writeNewKeyFile(paths.signingKeys);
  await writeSecret(paths.githubClientSecret, `${SAMPLE_SECRETS.githubClientSecret}\n`);
  if ('docs' in config.servers) await writeServerHeaders(paths, 'docs', { Authorization: SAMPLE_SECRETS.docsAuthorization });
  return { root, paths, config };
}
