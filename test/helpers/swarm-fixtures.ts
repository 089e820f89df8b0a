import type { GatewayConfig, GatewayConfigInput } from '../../runtime/config/schema.js';
import { parseConfig } from '../../runtime/config/load-config.js';
import { planDeployment } from '../../cli/deploy/deploy-plan.js';
import type { ServiceSecrets } from '../../cli/deploy/deploy-secrets.js';
import { loadDeployTemplates } from '../../cli/deploy/deploy-templates.js';
import type { TargetFiles } from '../../cli/deploy/deploy-target.js';
import { renderSwarmFiles } from '../../cli/deploy/swarm/render-stack.js';
import { PACKAGE_ROOT } from './cli-run.js';
import { SAMPLE_SECRETS, sampleConfigInput, TEST_IMAGES, type DeployShape } from './deploy-fixtures.js';

/** The sample project (test/helpers/deploy-fixtures.ts) with replicas, which need store: redis. */
export function swarmSampleConfig(shape: DeployShape, servers?: GatewayConfigInput['servers']): GatewayConfig {
  const input = sampleConfigInput(shape, servers);
  return parseConfig(
    {
      ...input,
      store: { type: 'redis', url: 'redis://redis.example.net:6379/0' },
      deploy: { ...input.deploy, replicas: { auth: 2, router: 2 }, drainPeriod: '20s' },
      servers: Object.fromEntries(Object.entries(input.servers ?? {}).map(([name, server]) => [name, name === 'memory' ? { ...server, replicas: 3 } : server])),
    },
    'the swarm sample config',
  );
}

/** Stand-ins for what collectServiceSecrets reads from .secrets/, one of each kind. */
export function sampleSecrets(config: GatewayConfig): ServiceSecrets {
  const secrets: ServiceSecrets = new Map([
    ['redis', [['REDIS_PASSWORD', 'redis-password-0123']]],
    [
      'auth',
      [
        ['MCPGW_SIGNING_KEYS', '{"keys":[]}'],
        ['MCPGW_STATE_KEY', 'state-key-0123'],
        ['MCPGW_REDIS_PASSWORD', 'redis-password-0123'],
        ['MCPGW_ADMIN_TOKEN', 'admin-token-0123'],
        ['MCPGW_GITHUB_CLIENT_SECRET', SAMPLE_SECRETS.githubClientSecret],
      ],
    ],
    ['router', [['MCPGW_SESSION_KEY', 'session-key-0123']]],
  ]);
  for (const name of Object.keys(config.servers)) {
    secrets.set(`bridge-${name}`, name === 'docs' ? [['MCPGW_UPSTREAM_HEADERS', JSON.stringify({ Authorization: SAMPLE_SECRETS.docsAuthorization })]] : []);
  }
  return secrets;
}

/** stack.yaml and its files for a config, without copying the package (no build/). */
export async function renderSampleStack(config: GatewayConfig, projectDir = '/srv/gw'): Promise<TargetFiles> {
  return renderSwarmFiles(
    {
      config,
      plan: planDeployment(config, projectDir, 'swarm'),
      templates: await loadDeployTemplates(PACKAGE_ROOT),
      images: TEST_IMAGES,
      logsDir: '../logs',
      user: '1000:1000',
    },
    sampleSecrets(config),
  );
}
