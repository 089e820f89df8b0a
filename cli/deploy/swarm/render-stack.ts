import { Document, isMap, isScalar, isSeq, parse, visit } from 'yaml';
import { RUNTIME_PORT } from '../../../runtime/http/edge-contract.js';
import { GatewayError } from '../../../runtime/errors.js';
import { contentHash } from '../container-config.js';
import type { DeployPlan, RuntimeKind } from '../deploy-plan.js';
import type { ServiceSecrets } from '../deploy-secrets.js';
import type { TargetFiles } from '../deploy-target.js';
import { LABEL_PROJECT, LABEL_SERVICE } from '../docker/labels.js';
import { toYamlText } from '../merge-documents.js';
import { bridgeConfigDir, COMPOSE_HEADER_MARK, renderCompose } from '../render-compose.js';
import { type DeploymentFilesInputs, renderDeploymentFiles } from '../render-deployment.js';
import { checkStackName, hashedKey } from './stack-names.js';
import { type StackSecret, stackSecrets } from './stack-secrets.js';
import { bridgeLimits, composeDuration, deployBlock, readSecretsFirst, serviceLabels, swarmService, type YamlMap } from './stack-services.js';
import { traefikFront } from './stack-traefik.js';

/** The file `docker stack deploy -c` and `up --target swarm` read. */
export const STACK_FILE = 'stack.yaml';

/**
 * The compose file format stack.yaml declares: 3.9 is the newest every docker CLI since 20.10
 * reads (stack deploy validates against its own v3 schemas), and it has everything used here
 * (deploy.resources.limits.pids, init, configs, max_replicas_per_node).
 */
const STACK_VERSION = '3.9';

/** A bridge stopping gets its drain, then the runtime's shutdown grace, then this, before SIGKILL. */
const STOP_MARGIN_MS = 5_000;

/** Addresses a host-mode published port listens on anyway: every one of the node's. */
const ALL_ADDRESSES = new Set(['0.0.0.0', '::', '[::]', '']);

interface ComposeFile {
  services: Record<string, YamlMap>;
  volumes?: Record<string, YamlMap>;
  networks?: Record<string, YamlMap>;
}

/**
 * The swarm target's files: stack.yaml, which `docker stack deploy -c stack.yaml PROJECT` deploys
 * without our CLI (and `up --target swarm` reads), the config/ and monitoring/ files of every
 * target, and one file per Docker secret (the raw value, written 0600).
 *
 * stack.yaml is translated from the compose file of the same project, rendered with the
 * built-in router (which every swarm runs, behind Traefik or not), so each runtime's command,
 * environment, mounts, healthcheck and hardening are the compose templates' and cannot drift:
 * stack-services.ts says what changes on a swarm and why, and refuses a compose key it does not know.
 */
export function renderSwarmFiles(inputs: DeploymentFilesInputs, secrets: ServiceSecrets): TargetFiles {
  const { config, plan, images } = inputs;
  refuseAddressBinding(config.deploy.bind);
  const parts = renderDeploymentFiles(inputs);
  const files = new Map([...parts].filter(([path]) => path.startsWith('config/') || path.startsWith('monitoring/')));
  const configText = required(parts, 'config/mcp-gateway.yaml');
  const bridgeConfigs = new Map(plan.bridges.map((bridge) => [bridge.service, required(parts, `${bridgeConfigDir(bridge.server)}/mcp-gateway.yaml`)]));
  const builtin: DeployPlan = { ...plan, router: 'builtin' };
  const configHashes: Record<string, string> = { auth: contentHash(configText), router: contentHash(configText) };
  for (const [service, text] of bridgeConfigs) configHashes[service] = contentHash(text);
  const compose = parse(renderCompose({ ...inputs, plan: builtin, configHashes })) as ComposeFile;
  const composeService = (name: string): YamlMap => {
    const found = compose.services[name];
    if (found === undefined) throw new TypeError(`the compose file has no service ${name}`);
    return found;
  };

  const allSecrets = stackSecrets(plan.project, secrets);
  const secretsOf = (service: string): StackSecret[] => allSecrets.filter((secret) => secret.service === service);
  const gatewayConfig = hashedKey('gateway-config', configText);
  const configs: Record<string, YamlMap> = { [gatewayConfig]: { file: './config/mcp-gateway.yaml', labels: { [LABEL_PROJECT]: plan.project } } };
  for (const key of [gatewayConfig]) checkStackName('config', plan.project, key, 'deploy.project');
  for (const service of ['redis', 'auth', 'router', ...plan.bridges.map((bridge) => bridge.service)]) {
    checkStackName('service', plan.project, service, service.startsWith('bridge-') ? `the server name ${service.slice('bridge-'.length)}` : 'deploy.project');
  }
  const base = { plan, user: inputs.user };

  const services: Record<string, YamlMap> = {};
  const redisCompose = composeService('redis');
  const redisSecrets = secretsOf('redis');
  const redis = swarmService('redis', redisCompose, { ...base, secrets: redisSecrets });
  const [shell, flag, script] = redisCompose['command'] as [string, string, string];
  redis['command'] = [shell, flag, readSecretsFirst(script, redisSecrets, 'services.redis.command')];
  const redisCheck = redisCompose['healthcheck'] as YamlMap;
  const [kind, test] = redisCheck['test'] as [string, string];
  redis['healthcheck'] = { ...redisCheck, test: [kind, readSecretsFirst(test, redisSecrets, 'services.redis.healthcheck')] };
  // One Redis, stopped before its successor starts: two on one append-only file would corrupt it.
  redis['deploy'] = deployBlock({ replicas: 1, labels: serviceLabels(redisCompose), order: 'stop-first' });
  services['redis'] = redis;

  const authCompose = composeService('auth');
  services['auth'] = {
    ...swarmService('auth', authCompose, { ...base, secrets: secretsOf('auth'), config: gatewayConfig }),
    deploy: deployBlock({ replicas: plan.replicas.auth, labels: serviceLabels(authCompose), order: 'start-first' }),
  };

  const routerCompose = composeService('router');
  const router = swarmService('router', routerCompose, { ...base, secrets: secretsOf('router'), config: gatewayConfig });
  // Every replica's address (DNS round-robin): the router sends each session to the replica that owns it.
  (router['environment'] as Record<string, string>)['MCPGW_BRIDGE_URL'] = `http://tasks.bridge-{name}:${RUNTIME_PORT}`;
  const published = plan.router === 'builtin';
  // Behind Traefik the router's peer is Traefik's task, whose overlay address is known only by name:
  // trusting it keeps each client's own address (rate limits, audit lines) instead of Traefik's for all.
  if (!published) (router['environment'] as Record<string, string>)['MCPGW_TRUSTED_PROXY_HOSTS'] = 'tasks.traefik';
  if (published) {
    const [port] = routerCompose['ports'] as Array<{ target: number; published: number; protocol: string }>;
    if (port === undefined) throw new TypeError('the compose router publishes no port');
    router['ports'] = [{ target: port.target, published: port.published, protocol: port.protocol, mode: 'host' }];
  }
  router['deploy'] = deployBlock({
    replicas: plan.replicas.router,
    labels: serviceLabels(routerCompose),
    // A host-mode port is held by one task per node: its successor can only start once it stopped.
    order: published ? 'stop-first' : 'start-first',
    ...(published ? { placement: { max_replicas_per_node: 1 } } : {}),
  });
  services['router'] = router;

  const networks: Record<string, YamlMap> = { default: { driver: 'overlay', labels: { [LABEL_PROJECT]: plan.project } } };
  const volumes: Record<string, YamlMap> = { ...compose.volumes };
  if (plan.router === 'traefik') {
    const front = traefikFront(inputs);
    services['traefik'] = front.service;
    for (const [path, text] of front.files) files.set(path, text);
    Object.assign(configs, front.configs);
    Object.assign(volumes, front.volumes);
    for (const key of Object.keys(front.configs)) checkStackName('config', plan.project, key, 'deploy.project');
  }

  const stopGrace = composeDuration(plan.drainMs + config.shutdownGrace + STOP_MARGIN_MS);
  for (const bridge of plan.bridges) {
    const bridgeCompose = composeService(bridge.service);
    const own = hashedKey(`${bridge.service}-config`, bridgeConfigs.get(bridge.service)!);
    checkStackName('config', plan.project, own, `the server name ${bridge.server}`);
    configs[own] = { file: `./${bridgeConfigDir(bridge.server)}/mcp-gateway.yaml`, labels: serviceLabels(bridgeCompose) };
    const service = swarmService(bridge.service, bridgeCompose, { ...base, secrets: secretsOf(bridge.service), config: own });
    // A replica being replaced keeps serving its own sessions this long (and takes no new one).
    (service['environment'] as Record<string, string>)['MCPGW_DRAIN_MS'] = String(plan.drainMs);
    service['stop_grace_period'] = stopGrace;
    service['deploy'] = deployBlock({ replicas: bridge.replicas, labels: serviceLabels(bridgeCompose), order: 'start-first', limits: bridgeLimits(bridge) });
    services[bridge.service] = service;
    networks[bridge.network] = { driver: 'overlay', labels: compose.networks?.[bridge.network]?.['labels'] ?? { [LABEL_PROJECT]: plan.project } };
  }

  const secretDefinitions = Object.fromEntries(
    allSecrets.map((secret) => [secret.key, { file: `./${secret.file}`, labels: { [LABEL_PROJECT]: plan.project, [LABEL_SERVICE]: secret.service } }]),
  );
  const used = new Set<RuntimeKind>(['node', ...plan.bridges.map((bridge) => bridge.runtime)]);
  const builds = Object.fromEntries([...used].sort().map((kind) => [images[kind].tag, images[kind].build]));

  const doc = new Document({
    version: STACK_VERSION,
    services,
    networks,
    volumes,
    secrets: secretDefinitions,
    configs,
    'x-build': builds,
  });
  doc.commentBefore = [
    ` ${COMPOSE_HEADER_MARK} from the project's mcp-gateway.yaml (--target swarm); edit that and render again.`,
    ` \`docker stack deploy -c stack.yaml ${plan.project}\` in this folder deploys it on a swarm (so does \`mcp-gateway up --target swarm\`),`,
    ' once the images of x-build exist on the nodes (on more than one node: push them to a registry, docs/swarm.md).',
    ' Secrets are files under secrets/ (mode 0600) that become Docker secrets, never in this file or in the images.',
  ].join('\n');
  commentKey(
    doc,
    ['services', 'redis', 'deploy'],
    [" One Redis, on the node that holds its volume (another node's would be another, empty one): on more than one node, pin it with placement.constraints."],
  );
  if (published) {
    commentKey(
      doc,
      ['services', 'router', 'ports'],
      [
        ' Host mode: each node running a router task listens on this port itself (the ingress mesh needs IPVS).',
        ' One router per node; put a load balancer or DNS in front of the nodes (docs/swarm.md).',
      ],
    );
  }
  for (const bridge of plan.bridges) {
    commentKey(
      doc,
      ['services', bridge.service, 'stop_grace_period'],
      [' deploy.drainPeriod + shutdownGrace + 5s: a replica being replaced serves its sessions for the drain, then stops.'],
    );
  }
  commentKey(
    doc,
    ['networks'],
    [
      ' Overlay networks: the default one holds Redis, auth and the router; each bridge has its own, shared only with the',
      ' router (a bridge trusts X-User-* headers and must not reach Redis, auth or another bridge).',
    ],
  );
  commentKey(
    doc,
    ['x-build'],
    [
      ' How the runtime images are built from build/ (docker stack deploy builds nothing): `mcp-gateway up --target swarm`',
      ' builds the missing ones on this host, as would `docker build -f build/<dockerfile> --build-arg ... -t <tag> build`.',
    ],
  );
  commentKey(doc, ['services', 'auth', 'secrets'], [' mode 256 is 0400 and 292 is 0444: YAML 1.1 and 1.2 readers disagree about a leading 0.']);
  // Commands, tests and network lists on one line, as the compose templates write them.
  visit(doc, {
    Seq(_key, node) {
      if (isSeq(node) && node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  files.set(STACK_FILE, toYamlText(doc));
  return { files, secretFiles: new Map(allSecrets.map((secret) => [secret.file, secret.value])) };
}

/** Host-mode ports have no host address: a deploy.bind that limits who reaches the router cannot be kept, so it is refused. */
function refuseAddressBinding(bind: string): void {
  if (ALL_ADDRESSES.has(bind)) return;
  throw new GatewayError('ERR_CONFIG_INVALID', `deploy.bind is ${bind}, but a swarm publishes ports on every address of the node`, {
    hint: 'remove deploy.bind (or set it to 0.0.0.0) for the swarm target and keep others out with a firewall or the load balancer in front; or deploy with compose',
  });
}

function required(files: ReadonlyMap<string, string>, path: string): string {
  const text = files.get(path);
  if (text === undefined) throw new TypeError(`renderDeploymentFiles wrote no ${path}`);
  return text;
}

function commentKey(doc: Document, path: string[], lines: string[]): void {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && item.key.value === path.at(-1)) : undefined;
  if (pair === undefined || !isScalar(pair.key)) throw new TypeError(`stack.yaml has no ${path.join('.')}`);
  pair.key.commentBefore = lines.join('\n');
}
