import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { parseDocument } from 'yaml';
import { projectName } from '../../cli/deploy/deploy-plan.js';
import { LABEL_PROJECT } from '../../cli/deploy/docker/labels.js';
import { swarmDown } from '../../cli/deploy/swarm/swarm-down.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { startGitHubStandIn, type GitHubStandIn } from '../github-stand-in/github-stand-in.js';
import { githubInitArgs, makeTempDir, removeTempDir, runCli, type CliResult } from './cli-run.js';
import { freePort } from './free-port.js';
import { freezePackage } from './frozen-package.js';
import { buildTestBaseImages } from './scratch-images.js';

/**
 * A gateway project deployed on a real single-node swarm, for test/swarm-*.test.ts: the built-in
 * router published (host mode) on a free port, `store: redis`, a stdio server (the probe fixture,
 * from a read-only granted mount) with bridge replicas, auth replicas, and GitHub played by the
 * stand-in on an address the swarm's tasks reach. The CLI runs from a frozen copy of the built
 * package (helpers/frozen-package.ts), the images are built FROM scratch around the host's node
 * and redis (helpers/scratch-images.ts). Each test file makes its own project and removes only
 * what it made.
 */

export const SWARM_SKIP_MESSAGE =
  'a Docker engine in an active swarm is needed (apt-get install -y docker.io, start dockerd, then `docker swarm init --advertise-addr 127.0.0.1`; .ci/run does both)';

/** Whether the engine answers and is a swarm manager: a test file skips (or, with CI set, fails) without both. */
export async function swarmAvailability(docker: Docker): Promise<{ ready: boolean; reason: string }> {
  try {
    await docker.ping();
  } catch {
    return { ready: false, reason: 'Docker is not reachable' };
  }
  const swarm = ((await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } }).Swarm;
  if (swarm?.LocalNodeState !== 'active') return { ready: false, reason: `the engine is not in a swarm (${swarm?.LocalNodeState ?? 'inactive'})` };
  if (swarm.ControlAvailable !== true) return { ready: false, reason: 'the engine is a swarm worker, not a manager' };
  return { ready: true, reason: '' };
}

/** The probe fixture: a stdio server of node's own modules only (no node_modules exist in the container). */
export const PROBE_FIXTURE = new URL('../fixtures/probe-mcp-server.mjs', import.meta.url);

export interface SwarmProjectOptions {
  /** Bridge replicas of the probe server. */
  bridgeReplicas?: number;
  authReplicas?: number;
  routerReplicas?: number;
  /** deploy.drainPeriod; short by default so rolling updates and down are quick. */
  drainPeriod?: string;
}

export interface SwarmProject {
  dir: string;
  /** The stack namespace (deploy.project, else mcpgw-<folder>). */
  project: string;
  port: number;
  publicUrl: string;
  github: GitHubStandIn;
  images: { node: string; redis: string };
  /** The CLI from the frozen package. */
  cli(args: string[]): Promise<CliResult>;
  /** `up --target swarm` with the test images. */
  upArgs: string[];
  /** Removes every swarm object of the project and the folders; the images stay as a cache. */
  close(): Promise<void>;
}

export async function startSwarmProject(docker: Docker, options: SwarmProjectOptions = {}): Promise<SwarmProject> {
  const images = await buildTestBaseImages(docker);
  const frozen = await freezePackage();
  const github = await startGitHubStandIn({ host: await hostAddressForTasks(docker) });
  const dir = await makeTempDir('mcpgw-swarm-');
  const cli = (args: string[]): Promise<CliResult> => runCli(args, { packageRoot: frozen });
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  // The stand-in's two users (alice, mallory), both allowed: sessions are bound to their user.
  const init = await cli([...githubInitArgs(dir, publicUrl, github.url, 'alice,mallory'), '--router', 'builtin']);
  if (init.code !== 0) throw new Error(`init failed:\n${init.stdout}\n${init.stderr}`);
  const file = join(dir, 'mcp-gateway.yaml');
  const doc = parseDocument(await readFile(file, 'utf8'));
  doc.setIn(['deploy', 'httpPort'], port);
  doc.setIn(['deploy', 'drainPeriod'], options.drainPeriod ?? '2s');
  doc.setIn(['deploy', 'replicas'], doc.createNode({ auth: options.authReplicas ?? 2, router: options.routerReplicas ?? 1 }));
  // More than one replica shares grants and sessions through Redis (the containers use the deployment's own).
  doc.setIn(['store'], doc.createNode({ type: 'redis', url: 'redis://127.0.0.1:6379/0' }));
  await mkdir(join(dir, 'tools'));
  await cp(PROBE_FIXTURE, join(dir, 'tools', 'probe-mcp-server.mjs'));
  doc.setIn(
    ['servers'],
    doc.createNode({
      probe: {
        command: 'node',
        args: [join(dir, 'tools', 'probe-mcp-server.mjs')],
        mounts: [{ path: 'tools', readOnly: true }],
        replicas: options.bridgeReplicas ?? 2,
      },
    }),
  );
  await writeFile(file, doc.toString());
  const project = projectName(await loadConfig(dir), dir);
  return {
    dir,
    project,
    port,
    publicUrl,
    github,
    images,
    cli,
    upArgs: ['up', '--target', 'swarm', '--dir', dir, '--base-image', images.node, '--redis-image', images.redis, '--timeout', '3m'],
    async close() {
      await swarmDown(docker, project, { volumes: true }).catch(() => {});
      await github.close();
      await removeTempDir(dir);
      await removeTempDir(frozen);
    },
  };
}

/**
 * An address of the Docker host that swarm tasks reach and nothing outside this host does:
 * the gateway of docker_gwbridge (the bridge every task's egress goes through), else of the
 * default bridge. The GitHub stand-in listens there for the auth runtime's code exchange.
 */
export async function hostAddressForTasks(docker: Docker): Promise<string> {
  for (const name of ['docker_gwbridge', 'bridge']) {
    try {
      const network = await docker.getNetwork(name).inspect();
      const gateway = ((network.IPAM?.Config ?? []) as Array<{ Gateway?: string }>).map((c) => c.Gateway).find(Boolean);
      if (gateway) return gateway;
    } catch {
      // Not there (no swarm yet, or no default bridge): the next one.
    }
  }
  throw new Error('no Docker network gateway address to serve the GitHub stand-in on');
}

/** Every swarm object and volume that carries the project label, whoever made it (the CLI or `docker stack deploy`). */
export async function labelledObjects(docker: Docker, project: string): Promise<Record<'services' | 'networks' | 'secrets' | 'configs' | 'volumes', string[]>> {
  const filters = { label: [`${LABEL_PROJECT}=${project}`] };
  const names = (items: ReadonlyArray<{ Spec?: { Name?: string | undefined } | undefined; Name?: string | undefined }>): string[] =>
    items.map((item) => item.Spec?.Name ?? item.Name ?? '?').sort();
  return {
    services: names(await docker.listServices({ filters })),
    networks: names(await docker.listNetworks({ filters })),
    secrets: names((await docker.listSecrets({ filters })) as Array<{ Spec?: { Name?: string } }>),
    configs: names((await docker.listConfigs({ filters })) as Array<{ Spec?: { Name?: string } }>),
    volumes: names((await docker.listVolumes({ filters })).Volumes ?? []),
  };
}

/** Polls GET url until it answers 200 (a router task published in host mode takes its healthcheck's interval). */
export async function waitForOk(url: string, timeoutMs = 60_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      if (res.status === 200) return res;
      last = `HTTP ${res.status}`;
      await res.body?.cancel();
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000}s (${last})`);
}

/**
 * One 2026-07-28 `tools/call` (stateless: no session, so any bridge replica may answer it):
 * headers mirror the body as the spec says a client sends them. Returns the JSON-RPC reply.
 */
export async function statelessToolCall(endpoint: string, token: string, tool: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': tool,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: tool,
        arguments: args,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/clientInfo': { name: 'swarm-e2e', version: '1.0.0' },
        },
      },
    }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`tools/call ${tool}: HTTP ${res.status} ${text}`);
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return JSON.parse(text) as Record<string, unknown>;
  const messages = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)) as Record<string, unknown>);
  const reply = messages.find((message) => 'result' in message || 'error' in message);
  if (reply === undefined) throw new Error(`tools/call ${tool}: no reply in ${text}`);
  return reply;
}
