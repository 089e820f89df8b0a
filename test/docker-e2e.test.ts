import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Docker from 'dockerode';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../runtime/config/load-config.js';
import { projectPaths } from '../runtime/config/project-paths.js';
import { serverDataDir } from '../runtime/config/server-mounts.js';
import { deployDown } from '../cli/deploy/docker/deploy-down.js';
import { LABEL_PROJECT } from '../cli/deploy/docker/labels.js';
import { listProjectContainers } from '../cli/deploy/docker/project-containers.js';
import { waitReady } from '../cli/deploy/docker/wait-ready.js';
import { projectName } from '../cli/deploy/deploy-plan.js';
import { startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';
import { makeTempDir, removeTempDir, runCli, STACK_FRAME, type CliResult, githubInitArgs } from './helpers/cli-run.js';
import { fetchInContainer } from './helpers/container-fetch.js';
import { freePort } from './helpers/free-port.js';
import { buildTestBaseImages, TEST_BASE_LABEL } from './helpers/scratch-images.js';
import { bridgeGatewayAddress } from './helpers/docker-host-address.js';
import { freezePackage } from './helpers/frozen-package.js';
import { approveConsent, TestOAuthProvider } from './helpers/sdk-oauth-provider.js';
import { stepTimings } from './helpers/step-timings.js';

/**
 * The Docker deployment end to end, on the real engine: `mcp-gateway up` with the built-in
 * router, the unchanged MCP SDK client through the whole OAuth flow, state surviving restarts
 * (Redis with its append-only file on a volume), a second `up` that changes nothing, and
 * `down --volumes` leaving nothing behind; each bridge container confined (read-only root, no
 * capabilities, limits, no gateway secret, its own network; with `network: none` no network at
 * all, reached through its relay) and a server's data surviving the recreation of its container. No registry here: the base images are built
 * `FROM scratch` around the host's node and redis binaries (DESIGN.md), cached by content.
 */

const SKIP_MESSAGE =
  'Docker is not reachable: install docker.io (apt-get install -y docker.io) and start dockerd (the Docker end-to-end test needs a real engine)';
const docker = new Docker();
const reachable = await docker.ping().then(
  () => true,
  () => false,
);
if (!reachable && !process.env['CI']) console.warn(`skipping test/docker-e2e.test.ts: ${SKIP_MESSAGE}`);

const REDIRECT = 'http://127.0.0.1:53682/callback';
/** A stdio server without dependencies, run from a read-only granted mount (no node_modules of ours exist in the container). */
const PROBE_FIXTURE = new URL('./fixtures/probe-mcp-server.mjs', import.meta.url);
const BRIDGES = ['bridge-demo', 'bridge-probe', 'bridge-sealed'];
/** The relay of `sealed` (network: none), which the router reaches it through. */
const SERVICES = ['auth', ...BRIDGES, 'redis', 'relay-sealed', 'router'];

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as Array<{ type: string; text: string }>)[0]!.text;
}

function ok(result: CliResult): CliResult {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
}

describe.skipIf(!reachable && !process.env['CI'])('mcp-gateway up/down on a real Docker engine', () => {
  let github: GitHubStandIn;
  let dir: string;
  let project: string;
  let publicUrl: string;
  let images: { node: string; redis: string };
  let upArgs: string[];
  let runtimeImage: string | undefined;
  /** A copy of the built package the CLI runs from (see freezePackage). */
  let frozen: string | undefined;
  const cli = (args: string[]): Promise<CliResult> => runCli(args, frozen === undefined ? {} : { packageRoot: frozen });
  const { timings, timed } = stepTimings();

  beforeAll(async () => {
    if (!reachable) throw new Error(`Docker is required in CI: ${SKIP_MESSAGE}`);
    images = await timed('base images', () => buildTestBaseImages(docker));
    frozen = await freezePackage();
    github = await startGitHubStandIn({ host: await bridgeGatewayAddress(docker) });
    dir = await makeTempDir('mcpgw-docker-e2e-');
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    ok(await cli([...githubInitArgs(dir, publicUrl, github.url), '--router', 'builtin']));
    // No flags for these: the router published on loopback only, and the built-in demo server
    // (no npx download in a container on a host without a registry).
    const file = join(dir, 'mcp-gateway.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    expect(doc.getIn(['deploy', 'router'])).toBe('builtin');
    doc.setIn(['deploy', 'bind'], '127.0.0.1');
    doc.setIn(['deploy', 'httpPort'], port);
    // probe: a stdio server with limits of its own and the network on; sealed: the same with network: none.
    await mkdir(join(dir, 'tools'));
    await cp(PROBE_FIXTURE, join(dir, 'tools', 'probe-mcp-server.mjs'));
    const probe = { command: 'node', args: [join(dir, 'tools', 'probe-mcp-server.mjs')], mounts: [{ path: 'tools', readOnly: true }] };
    doc.setIn(
      ['servers'],
      doc.createNode({
        demo: { builtin: 'demo' },
        probe: { ...probe, limits: { memory: '256m', cpus: 0.5, pids: 128 } },
        sealed: { ...probe, network: 'none' },
      }),
    );
    await writeFile(file, doc.toString());
    project = projectName(await loadConfig(dir), dir);
    upArgs = ['up', '--dir', dir, '--base-image', images.node, '--redis-image', images.redis];
  }, 240_000);

  afterAll(async () => {
    if (!reachable) return;
    // Whatever a failed assertion left: nothing of the project stays on the engine.
    if (project) await deployDown(docker, project, { volumes: true }).catch(() => {});
    await github?.close();
    if (dir) await removeTempDir(dir);
    if (frozen) await removeTempDir(frozen);
    // The current runtime image stays as a cache for the next run; older ones built on the test base go.
    for (const image of await docker.listImages({ filters: { label: [TEST_BASE_LABEL] } })) {
      for (const tag of image.RepoTags ?? []) {
        if (tag.startsWith('mcp-gateway-runtime-') && tag !== runtimeImage)
          await docker
            .getImage(tag)
            .remove()
            .catch(() => {});
      }
    }
    console.info(`docker e2e timings (ms): ${JSON.stringify(timings)}`);
  }, 120_000);

  /** Each service's container and image, to tell "recreated" from "kept". */
  const snapshot = async (): Promise<Record<string, { id: string; image: string }>> =>
    Object.fromEntries((await listProjectContainers(docker, project)).map((c) => [c.service!, { id: c.id.slice(0, 12), image: c.image }]));
  /** On this shared build machine, `npm run build` elsewhere changes dist/, hence the runtime image: say so when it happens. */
  const explainRecreation = (before: Record<string, { image: string }>, after: Record<string, { image: string }>): string => {
    const changed = Object.keys(before).filter((s) => after[s] && after[s].image !== before[s]!.image);
    return changed.length === 0
      ? 'recreated with the same image'
      : `the image of ${changed.join(', ')} changed (${changed.map((s) => `${before[s]!.image} -> ${after[s]!.image}`).join('; ')}): was the package rebuilt during the test?`;
  };

  it('refuses to start when the router port is taken, naming port and service, before building anything', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(Number(new URL(publicUrl).port), '127.0.0.1', resolve));
    try {
      const up = await cli(upArgs);
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(`error: port 127.0.0.1:${new URL(publicUrl).port} for service router is already in use`);
      expect(up.stderr).toMatch(/^hint: /m);
      expect(up.stderr).toContain(`nothing of ${project} is running`);
      expect(up.stderr).not.toMatch(STACK_FRAME);
      expect(await listProjectContainers(docker, project)).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 120_000);

  it('starts redis, auth, the router and the bridges, all healthy, labelled with the project', async () => {
    const up = ok(await timed('first up', () => cli(upArgs)));
    expect(up.stdout).toContain(`${publicUrl}/demo/mcp`);
    const containers = await listProjectContainers(docker, project);
    expect(containers.map((c) => c.service).sort()).toEqual(SERVICES);
    for (const c of containers)
      expect({ service: c.service, state: c.state, health: c.health }).toEqual({ service: c.service, state: 'running', health: 'healthy' });
    // Only the router is published, and only on loopback.
    expect(containers.flatMap((c) => c.ports.filter((p) => p.includes('->')))).toEqual([`127.0.0.1:${new URL(publicUrl).port}->8080/tcp`]);
    runtimeImage = containers.find((c) => c.service === 'auth')!.image;
    const status = JSON.parse(ok(await cli(['status', '--dir', dir, '--json'])).stdout) as {
      project: string;
      services: Array<{ service: string; health: string }>;
    };
    expect(status.project).toBe(project);
    expect(status.services.map((s) => `${s.service}:${s.health}`).sort()).toEqual(SERVICES.map((s) => `${s}:healthy`));
  }, 300_000);

  let provider: TestOAuthProvider;

  it('takes the MCP SDK client through registration, GitHub login, consent and a tool call', async () => {
    const endpoint = new URL(`${publicUrl}/demo/mcp`);
    provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
    const client = new Client({ name: 'docker-e2e', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    const transport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
    await transport.finishAuth(provider.code());
    await client.connect(transport);
    expect(textOf(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }))).toBe('5');
    await client.close();
    // The auth container reached the stand-in for the code exchange and the user.
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['POST /login/oauth/access_token', 'GET /api/v3/user']));
  }, 60_000);

  /** GET `url` from inside the router container (node's fetch): the status line, then the body. */
  async function fetchInRouter(url: string): Promise<{ status: number; body: string }> {
    const router = (await listProjectContainers(docker, project)).find((c) => c.service === 'router')!;
    return fetchInContainer(docker, router.id, url);
  }

  it('serves each runtime metrics on the project network only: auth and the router their own, each bridge through the router', async () => {
    const bridge = await fetchInRouter('http://127.0.0.1:9464/metrics/bridge-demo');
    expect(bridge.status).toBe(200);
    expect(bridge.body).toMatch(/^mcp_gateway_tool_calls_total\{server="demo",tool="[^"]+",outcome="ok"\} [1-9]/m);
    expect(bridge.body).toMatch(/^mcp_gateway_sessions\{server="demo"\} /m);
    expect(bridge.body).toContain('process_resident_memory_bytes');
    const auth = await fetchInRouter('http://auth:9464/metrics');
    expect(auth.status).toBe(200);
    expect(auth.body).toMatch(/^mcp_gateway_auth_decisions_total\{endpoint="verify",decision="allowed"\} [1-9]/m);
    expect(auth.body).toMatch(/^mcp_gateway_auth_decisions_total\{endpoint="token",decision="issued"\} [1-9]/m);
    const router = await fetchInRouter('http://127.0.0.1:9464/metrics');
    expect(router.body).toMatch(/^mcp_gateway_http_requests_total\{route="mcp",status="200"\} [1-9]/m);
    expect((await fetchInRouter('http://127.0.0.1:9464/metrics/bridge-nope')).status).toBe(404);
    // A network: none bridge has no port: it is not relayed.
    expect((await fetchInRouter('http://127.0.0.1:9464/metrics/bridge-sealed')).status).toBe(404);
    // Never published: the host reaches none of it.
    const published = (await listProjectContainers(docker, project)).flatMap((c) => c.ports.filter((p) => p.includes('->') && p.includes('9464')));
    expect(published).toEqual([]);
  }, 60_000);

  /** A client of NAME's endpoint through the router, with a token `token issue` signs (the OAuth flow is proven above). */
  const connectTo = async (server: string): Promise<Client> => {
    const token = ok(await cli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', server, '--ttl', '5m']))
      .stdout.trim()
      .split('\n')
      .at(-1)!;
    const client = new Client({ name: `docker-e2e-${server}`, version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${publicUrl}/${server}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
    );
    return client;
  };
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> =>
    textOf(await client.callTool({ name, arguments: args }));
  const inspectService = async (service: string): Promise<Docker.ContainerInspectInfo> => {
    const container = (await listProjectContainers(docker, project)).find((c) => c.service === service)!;
    return docker.getContainer(container.id).inspect();
  };

  it('confines every bridge container: read-only root, no capabilities, no-new-privileges, limits, no secret of the gateway, only its own mounts', async () => {
    // Every secret the project holds (.secrets/), and the auth container's secret variables as it got them.
    const secretsDir = projectPaths(dir).secretsDir;
    const secretValues = new Set<string>();
    for (const file of await readdir(secretsDir, { recursive: true, withFileTypes: true })) {
      if (file.isFile()) secretValues.add((await readFile(join(file.parentPath, file.name), 'utf8')).trim());
    }
    const auth = await inspectService('auth');
    const authSecrets = (auth.Config.Env ?? []).filter((entry) =>
      /^MCPGW_(?:SIGNING_KEYS|STATE_KEY|REDIS_PASSWORD|ADMIN_TOKEN|GITHUB_CLIENT_SECRET)=/.test(entry),
    );
    expect(authSecrets).toHaveLength(5);
    for (const entry of authSecrets) secretValues.add(entry.slice(entry.indexOf('=') + 1));
    const limits: Record<string, { memory: number; nanoCpus: number; pids: number }> = {
      'bridge-demo': { memory: 1024 ** 3, nanoCpus: 1e9, pids: 512 },
      'bridge-probe': { memory: 256 * 1024 ** 2, nanoCpus: 5e8, pids: 128 },
      'bridge-sealed': { memory: 1024 ** 3, nanoCpus: 1e9, pids: 512 },
    };
    for (const service of BRIDGES) {
      const info = await inspectService(service);
      const server = service.slice('bridge-'.length);
      const host = info.HostConfig;
      expect({
        service,
        readOnly: host.ReadonlyRootfs,
        capDrop: host.CapDrop,
        securityOpt: host.SecurityOpt,
        memory: host.Memory,
        nanoCpus: host.NanoCpus,
        pids: host.PidsLimit,
      }).toEqual({
        service,
        readOnly: true,
        capDrop: ['ALL'],
        securityOpt: ['no-new-privileges:true'],
        memory: limits[service]!.memory,
        nanoCpus: limits[service]!.nanoCpus,
        pids: limits[service]!.pids,
      });
      expect(host.CapAdd ?? []).toEqual([]);
      expect(host.Privileged).toBe(false);
      expect(Object.keys(host.Tmpfs ?? {})).toEqual(['/tmp']);
      const env = info.Config.Env ?? [];
      for (const entry of env) {
        const value = entry.slice(entry.indexOf('=') + 1);
        for (const secret of secretValues)
          expect(secret.length > 0 && value.includes(secret), `${service} has a gateway secret in ${entry.split('=')[0]}`).toBe(false);
      }
      expect(
        env
          .map((entry) => entry.split('=')[0])
          .filter((name) => name!.startsWith('MCPGW_'))
          .sort(),
      ).toEqual(['MCPGW_CONFIG', 'MCPGW_LISTEN', 'MCPGW_METRICS_LISTEN']);
      // Its data volume at the host path of its data directory, its own config read-only, the granted tools/ read-only: nothing else.
      const dataDir = serverDataDir(dir, server);
      const mounts = (info.Mounts as Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>)
        .map((m) => ({ type: m.Type, ...(m.Type === 'volume' ? { name: m.Name } : { source: m.Source }), destination: m.Destination, rw: m.RW }))
        .sort((a, b) => a.destination.localeCompare(b.destination));
      const expected = [
        { type: 'bind', source: join(dir, 'deploy', 'config', 'bridges', server), destination: '/config', rw: false },
        { type: 'volume', name: `${project}_data-${server}`, destination: dataDir, rw: true },
        ...(server === 'demo' ? [] : [{ type: 'bind', source: join(dir, 'tools'), destination: join(dir, 'tools'), rw: false }]),
        // network: none: the socket its relay reaches it on.
        ...(server === 'sealed' ? [{ type: 'volume', name: `${project}_socket-sealed`, destination: '/run/mcpgw', rw: true }] : []),
      ].sort((a, b) => a.destination.localeCompare(b.destination));
      expect(mounts, service).toEqual(expected);
      expect(info.Config.WorkingDir).toBe(dataDir);
      // Only its own network: the router's, never the default one with Redis and auth; with network: none none at all.
      expect({ service, mode: host.NetworkMode, networks: Object.keys(info.NetworkSettings.Networks) }).toEqual(
        server === 'sealed' ? { service, mode: 'none', networks: ['none'] } : { service, mode: `${project}_${service}`, networks: [`${project}_${service}`] },
      );
    }
    // The relay: hardened the same way, no secret (no env file at all), only the socket volume, read-only, on the router's network.
    const relay = await inspectService('relay-sealed');
    expect({
      readOnly: relay.HostConfig.ReadonlyRootfs,
      capDrop: relay.HostConfig.CapDrop,
      securityOpt: relay.HostConfig.SecurityOpt,
      privileged: relay.HostConfig.Privileged,
    }).toEqual({
      readOnly: true,
      capDrop: ['ALL'],
      securityOpt: ['no-new-privileges:true'],
      privileged: false,
    });
    expect((relay.Config.Env ?? []).filter((entry) => entry.startsWith('MCPGW_')).sort()).toEqual([
      'MCPGW_LISTEN=0.0.0.0:8000',
      'MCPGW_RELAY_SOCKET=/run/mcpgw/sealed.sock',
    ]);
    expect(
      (relay.Mounts as Array<{ Name?: string; Destination: string; RW: boolean }>).map((m) => ({ name: m.Name, destination: m.Destination, rw: m.RW })),
    ).toEqual([{ name: `${project}_socket-sealed`, destination: '/run/mcpgw', rw: false }]);
    expect(Object.keys(relay.NetworkSettings.Networks)).toEqual([`${project}_relay-sealed`]);
    const own = parseDocument(await readFile(join(dir, 'deploy', 'config', 'bridges', 'probe', 'mcp-gateway.yaml'), 'utf8')).toJS() as { servers: object };
    expect(Object.keys(own.servers)).toEqual(['probe']);
  }, 60_000);

  it('network: none leaves a server no route out and no way to Redis, auth or another bridge, while its endpoint works through the router', async () => {
    const internal = async (service: string): Promise<string> => {
      const info = await inspectService(service);
      return info.NetworkSettings.Networks[`${project}_default`]!.IPAddress;
    };
    const [redisIp, authIp] = await Promise.all([internal('redis'), internal('auth')]);
    // The GitHub stand-in listens on an address of the Docker host (docker0's): reachable from any container on a Docker network.
    const outside = new URL(github.url);
    const [probe, sealed] = await Promise.all([connectTo('probe'), connectTo('sealed')]);
    try {
      const targets = [
        { host: 'redis', port: 6379 },
        { host: redisIp, port: 6379 },
        { host: 'auth', port: 8000 },
        { host: authIp, port: 8000 },
        { host: 'bridge-demo', port: 8000 },
        // Off the host: no route from an internal network (the machine may have no direct egress at all).
        { host: '192.0.2.1', port: 443 },
      ];
      const attempts = await Promise.all(
        [probe, sealed].flatMap((client, i) =>
          targets.map(async (target) => ({
            server: i === 0 ? 'probe' : 'sealed',
            ...target,
            result: await call(client, 'connect', { ...target, timeoutMs: 1500 }),
          })),
        ),
      );
      for (const attempt of attempts) expect(attempt.result, JSON.stringify(attempt)).not.toBe('connected');
      // The control: with the network on, the same tool reaches a server outside the deployment (the GitHub stand-in).
      expect(await call(probe, 'connect', { host: outside.hostname, port: Number(outside.port) })).toBe('connected');
      // Regression: on an internal network the sealed server still reached the stand-in, and anything else listening on
      // the host's addresses (moby/libnetwork#1151). Without a network no address but loopback has a route.
      const relayNetwork = await docker.getNetwork(`${project}_relay-sealed`).inspect();
      const hostAddresses = [
        ...new Set([
          outside.hostname,
          '172.17.0.1',
          ...((relayNetwork.IPAM?.Config ?? []) as Array<{ Gateway?: string }>).flatMap((c) => (c.Gateway ? [c.Gateway] : [])),
        ]),
      ];
      expect(hostAddresses.length).toBeGreaterThanOrEqual(2);
      const fromSealed = await Promise.all(
        [...hostAddresses.map((host) => ({ host, port: Number(outside.port) })), { host: '192.0.2.1', port: 443 }, { host: '1.1.1.1', port: 443 }].map(
          async (target) => ({
            ...target,
            result: await call(sealed, 'connect', { ...target, timeoutMs: 1500 }),
          }),
        ),
      );
      for (const attempt of fromSealed) expect(attempt, JSON.stringify(attempt)).toEqual({ ...attempt, result: 'ENETUNREACH' });
    } finally {
      await Promise.all([probe.close(), sealed.close()]);
    }
  }, 60_000);

  it('gives a server its data directory (the one serve uses) as working directory and HOME, and nothing else to write', async () => {
    const dataDir = serverDataDir(dir, 'probe');
    const client = await connectTo('probe');
    expect(JSON.parse(await call(client, 'where'))).toEqual({ cwd: dataDir, home: dataDir });
    expect(await call(client, 'write', { path: 'note.txt', text: 'kept across containers' })).toBe('ok');
    // The image is read-only and the granted tools/ too.
    expect(await call(client, 'write', { path: '/app/owned.txt', text: 'x' })).toBe('EROFS');
    expect(await call(client, 'write', { path: join(dir, 'tools', 'owned.txt'), text: 'x' })).toBe('EROFS');
    expect(await call(client, 'read', { path: join(dir, '.secrets', 'signing-keys.json') })).toBe('ENOENT');
    await client.close();
    // The same directory `serve` uses: the file is there on the host.
    expect(await readFile(join(dataDir, 'note.txt'), 'utf8')).toBe('kept across containers');
  }, 60_000);

  it('keeps issued tokens and registered clients across restarts of auth and redis (state in Redis, append-only file on a volume)', async () => {
    const tokens = provider.tokens()!;
    const clientId = provider.clientInformation()!.client_id;
    await timed('restarts', async () => {
      for (const service of ['redis', 'auth']) {
        const container = (await listProjectContainers(docker, project)).find((c) => c.service === service)!;
        await docker.getContainer(container.id).restart({ t: 10 });
        await waitReady(docker, container.id, { service, timeoutMs: 60_000, probe: true });
      }
      const router = (await listProjectContainers(docker, project)).find((c) => c.service === 'router')!;
      await waitReady(docker, router.id, { service: 'router', timeoutMs: 30_000, probe: true });
    });

    // The access token issued before the restarts still opens the endpoint.
    const client = new Client({ name: 'after-restart', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${publicUrl}/demo/mcp`), { requestInit: { headers: { authorization: `Bearer ${tokens.access_token}` } } }),
    );
    expect(textOf(await client.callTool({ name: 'add', arguments: { a: 40, b: 2 } }))).toBe('42');
    await client.close();

    // The refresh token refreshes (the grant and the rotation state are in Redis).
    const refreshed = await fetch(`${publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token!,
        client_id: clientId,
        resource: `${publicUrl}/demo/mcp`,
      }).toString(),
    });
    const body = (await refreshed.json()) as { access_token?: string; refresh_token?: string };
    expect(refreshed.status, JSON.stringify(body)).toBe(200);
    expect(body.access_token).toBeTruthy();
    expect(body.refresh_token).not.toBe(tokens.refresh_token);

    // The registered client is still known: /authorize sends the browser on to GitHub, not back with invalid_client.
    const authorize = new URL(`${publicUrl}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: `${publicUrl}/demo/mcp`,
    }).toString();
    const res = await fetch(authorize, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toContain(`${github.url}/login/oauth/authorize`);
  }, 180_000);

  it('changes nothing on a second up', async () => {
    const before = await snapshot();
    const again = ok(await timed('second up', () => cli(upArgs)));
    expect(again.stdout, explainRecreation(before, await snapshot())).toContain(`${SERVICES.length} unchanged`);
    expect(await snapshot()).toEqual(before);
  }, 180_000);

  it('adds and removes a server with the next up, leaving redis and the other bridges running; a recreated bridge finds its data', async () => {
    // Its container gone (as after `docker rm`, or an image upgrade): the same up that adds a server creates it again,
    // waiting for both at once (a bridge's first healthcheck is an interval away).
    const old = (await listProjectContainers(docker, project)).find((c) => c.service === 'bridge-probe')!;
    await docker.getContainer(old.id).remove({ force: true });
    const before = await snapshot();
    const file = join(dir, 'mcp-gateway.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    doc.setIn(['servers', 'extra'], doc.createNode({ builtin: 'demo' }));
    await writeFile(file, doc.toString());
    const added = ok(await timed('up adding a server', () => cli(upArgs)));
    expect(added.stdout).toContain(`${publicUrl}/extra/mcp`);
    const withExtra = await snapshot();
    expect(Object.keys(withExtra).sort()).toEqual([...SERVICES, 'bridge-extra'].sort());
    for (const unrelated of ['redis', 'bridge-demo', 'bridge-sealed', 'relay-sealed'])
      expect(withExtra[unrelated], explainRecreation(before, withExtra)).toEqual(before[unrelated]);
    expect(withExtra['bridge-probe']!.id).not.toBe(old.id.slice(0, 12));
    const probe = await connectTo('probe');
    expect(await call(probe, 'read', { path: 'note.txt' })).toBe('kept across containers');
    await probe.close();

    ok(await cli(['remove-server', 'extra', '--dir', dir]));
    const removed = ok(await timed('up removing a server', () => cli(upArgs)));
    expect(removed.stdout).toMatch(/1 removed \(mcpgw-[^)]*-bridge-extra-1\)/);
    const after = await snapshot();
    expect(Object.keys(after).sort()).toEqual(SERVICES);
    for (const unrelated of ['redis', ...BRIDGES, 'relay-sealed']) expect(after[unrelated], explainRecreation(withExtra, after)).toEqual(withExtra[unrelated]);
    // The removed server's network went with it; its data volume stays until down --volumes.
    const networks = (await docker.listNetworks({ filters: { label: [`${LABEL_PROJECT}=${project}`] } })).map((n) => n.Name).sort();
    expect(networks).toEqual([`${project}_bridge-demo`, `${project}_bridge-probe`, `${project}_default`, `${project}_relay-sealed`]);

    // The token issued at the start still works through the recreated auth and router (its state is in Redis).
    const client = new Client({ name: 'after-changes', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${publicUrl}/demo/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${provider.tokens()!.access_token}` } },
      }),
    );
    expect(textOf(await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } }))).toBe('2');
    await client.close();
  }, 240_000);

  it('shows the logs of one service, demultiplexed and prefixed', async () => {
    const logs = ok(await cli(['logs', 'demo', '--dir', dir, '--tail', '20']));
    const lines = logs.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^bridge-demo \| /);
  }, 60_000);

  it('down keeps the data volumes; down --volumes leaves no container, network or volume of the project', async () => {
    const kept = ok(await timed('down', () => cli(['down', '--dir', dir])));
    expect(kept.stdout).toContain('kept the volumes');
    const volumes = ((await docker.listVolumes({ filters: { label: [`${LABEL_PROJECT}=${project}`] } })).Volumes ?? []).map((v) => v.Name).sort();
    // The removed server's too (its data is not lost with its configuration).
    expect(volumes).toEqual([
      `${project}_data-demo`,
      `${project}_data-extra`,
      `${project}_data-probe`,
      `${project}_data-sealed`,
      `${project}_redis-data`,
      `${project}_socket-sealed`,
    ]);
    ok(await cli(['down', '--dir', dir, '--volumes']));
    // A data volume is a bind of the server's directory: removing the volume leaves the files on the host.
    expect(await readFile(join(serverDataDir(dir, 'probe'), 'note.txt'), 'utf8')).toBe('kept across containers');
    const label = `${LABEL_PROJECT}=${project}`;
    expect(await docker.listContainers({ all: true, filters: { label: [label] } })).toEqual([]);
    expect((await docker.listNetworks()).map((n) => n.Name).filter((name) => name.startsWith(`${project}_`))).toEqual([]);
    expect(((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name).filter((name) => name.startsWith(`${project}_`))).toEqual([]);
    const status = JSON.parse(ok(await cli(['status', '--dir', dir, '--json'])).stdout) as { services: unknown[] };
    expect(status.services).toEqual([]);
  }, 120_000);
});
