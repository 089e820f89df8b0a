import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNewKeyFile } from '../runtime/auth/tokens/signing-keys.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { projectPaths } from '../runtime/config/project-paths.js';
import type { GatewayConfigInput } from '../runtime/config/schema.js';
import { writeSecret } from '../runtime/config/secrets.js';
import { writeConfig } from '../runtime/config/write-config.js';
import { GatewayError } from '../runtime/errors.js';
import type { CheckResult, DoctorContext } from '../cli/doctor/doctor-check.js';
import { defaultDoctorDeps, type DoctorContainer, type DoctorDeps, type DoctorDockerEngine } from '../cli/doctor/doctor-deps.js';
import { checkDocker } from '../cli/doctor/docker-check.js';
import { checkDomain } from '../cli/doctor/domain-check.js';
import { checkPorts } from '../cli/doctor/ports-check.js';
import { checkProxy } from '../cli/doctor/proxy-check.js';
import { checkProvider } from '../cli/doctor/provider-check.js';
import { checkRedis } from '../cli/doctor/redis-check.js';
import { runDoctor } from '../cli/doctor/run-doctor.js';
import { checkSecrets } from '../cli/doctor/secrets-check.js';
import { checkServer } from '../cli/doctor/server-check.js';
import { startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';
import { PACKAGE_ROOT, localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { parse, stringify } from 'yaml';
import { freePort } from './helpers/free-port.js';

const ECHO_SERVER = join(PACKAGE_ROOT, 'test/fixtures/echo-mcp-server.mjs');

/** A project directory with a valid signing key, and the check context for `input` in it. */
async function project(
  input: Partial<GatewayConfigInput>,
  deps: Partial<DoctorDeps> = {},
  docker?: { reason?: string; engine?: () => Promise<DoctorDockerEngine> },
): Promise<DoctorContext> {
  const dir = await makeTempDir('mcpgw-doctor-');
  dirs.push(dir);
  const paths = projectPaths(dir);
  await writeNewKeyFile(paths.signingKeys);
  const config = parseConfig(
    { publicUrl: 'http://127.0.0.1:8080', provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'], ...input },
    'test config',
  );
  const engine =
    docker?.engine ??
    (() =>
      Promise.reject(
        new GatewayError('ERR_DOCKER_UNREACHABLE', 'Docker is not reachable: no Docker socket at unix:///nowhere', {
          hint: 'start the Docker engine (dockerd)',
        }),
      ));
  return {
    paths,
    config,
    deps: defaultDoctorDeps({ timeoutMs: 2_000, serverTimeoutMs: 10_000, ...deps }),
    dockerReason: docker?.reason,
    dockerEngine: engine,
    dockerProject: 'mcpgw-test',
  };
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map(removeTempDir));
});

const lookupAnswering =
  (answers: Record<string, Array<{ address: string; family: number }>>): DoctorDeps['lookup'] =>
  async (host) => {
    const found = answers[host];
    if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };

describe('doctor: the domain check', () => {
  it('skips a loopback publicUrl and says remote clients cannot reach it', async () => {
    const result = await checkDomain(await project({}));
    expect(result.status).toBe('skip');
    expect(result.detail).toMatch(/remote clients/);
  });

  it('passes a host that resolves to a public IPv4 address', async () => {
    const ctx = await project(
      { publicUrl: 'https://mcp.example.com' },
      { lookup: lookupAnswering({ 'mcp.example.com': [{ address: '93.184.215.14', family: 4 }] }) },
    );
    expect(await checkDomain(ctx)).toMatchObject({ status: 'pass' });
  });

  it.each([
    ['private', '192.168.1.20'],
    ['CGNAT', '100.64.3.4'],
    ['link-local', '169.254.10.10'],
    ['loopback', '127.0.1.1'],
  ])('fails a host that resolves to a %s address, explaining that Claude.ai connects from the internet', async (_kind, address) => {
    const ctx = await project({ publicUrl: 'https://mcp.example.com' }, { lookup: lookupAnswering({ 'mcp.example.com': [{ address, family: 4 }] }) });
    const result = await checkDomain(ctx);
    expect(result.status).toBe('fail');
    expect(result.detail).toContain(address);
    expect(result.detail).toMatch(/Claude\.ai/);
    expect(result.fix).toMatch(/A record/);
  });

  it('fails a host that does not resolve, and warns about one with IPv6 only', async () => {
    expect(await checkDomain(await project({ publicUrl: 'https://nowhere.example.com' }, { lookup: lookupAnswering({}) }))).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/does not resolve/),
    });
    const v6 = await project(
      { publicUrl: 'https://mcp.example.com' },
      { lookup: lookupAnswering({ 'mcp.example.com': [{ address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }] }) },
    );
    expect(await checkDomain(v6)).toMatchObject({ status: 'warn' });
  });

  it('checks every NAME.<domain> host with subdomain routing', async () => {
    const ctx = await project(
      {
        publicUrl: 'https://mcp.example.com',
        deploy: { routing: 'subdomain', domain: 'example.com' },
        servers: { time: { command: 'uvx', args: ['mcp-server-time'] } },
      },
      { lookup: lookupAnswering({ 'mcp.example.com': [{ address: '93.184.215.14', family: 4 }] }) },
    );
    const result = await checkDomain(ctx);
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/time\.example\.com does not resolve/);
  });
});

describe('doctor: the proxy in front', () => {
  it('warns when an https publicUrl puts a TLS proxy in front of serve and trustedProxies names none, with the key to set', async () => {
    const result = checkProxy(await project({ publicUrl: 'https://mcp.example.com' }));
    expect(result).toMatchObject({ name: 'proxy', status: 'warn', detail: expect.stringContaining('`serve` speaks plain HTTP') });
    expect(result.fix).toContain('trustedProxies: [127.0.0.1]');
  });

  it('warns for the built-in router in Docker too, and skips Traefik, which terminates TLS itself', async () => {
    const docker = { reason: 'deploy.email is set' };
    const builtin = checkProxy(await project({ publicUrl: 'https://mcp.example.com', deploy: { router: 'builtin' } }, {}, docker));
    expect(builtin).toMatchObject({ status: 'warn', detail: expect.stringContaining('the built-in router') });
    expect(builtin.fix).toContain('forwarded_for_ignored');
    const traefik = checkProxy(await project({ publicUrl: 'https://mcp.example.com', deploy: { router: 'traefik', email: 'ops@example.com' } }, {}, docker));
    expect(traefik).toMatchObject({ status: 'skip', detail: expect.stringContaining('Traefik terminates TLS itself') });
  });

  it('passes when trustedProxies names the proxies, and skips a plain loopback URL', async () => {
    const named = checkProxy(await project({ publicUrl: 'https://mcp.example.com', trustedProxies: ['127.0.0.1', '10.0.0.0/8'] }));
    expect(named).toMatchObject({ status: 'pass', detail: expect.stringContaining('127.0.0.1, 10.0.0.0/8') });
    expect(checkProxy(await project({}))).toMatchObject({ status: 'skip', detail: expect.stringContaining('loopback') });
  });
});

describe('doctor: Docker and ports', () => {
  it('skips Docker and the ports when the project is not a Docker deployment', async () => {
    const ctx = await project({});
    expect(await checkDocker(ctx)).toMatchObject({ status: 'skip' });
    expect(await checkPorts(ctx)).toMatchObject({ status: 'skip' });
  });

  it('fails when the engine does not answer, naming the fix', async () => {
    const result = await checkDocker(await project({}, {}, { reason: 'deploy.email set' }));
    expect(result).toMatchObject({ status: 'fail', fix: expect.stringMatching(/dockerd/) });
  });

  it("passes a taken port that this deployment's router publishes, and fails one held by something else", async () => {
    const engine: DoctorDockerEngine = {
      endpoint: 'unix:///var/run/docker.sock',
      local: true,
      projectContainers: async (project) =>
        project === 'mcpgw-test' ? [{ name: 'mcpgw-test-traefik-1', ports: [{ hostIp: '0.0.0.0', port: 80, protocol: 'tcp' }] }] : [],
      containers: async () => [],
      hasImage: async () => true,
    };
    const ctx = await project(
      { publicUrl: 'https://mcp.example.com', deploy: { email: 'ops@example.com' } },
      { bindTest: async () => 'in-use' },
      { reason: 'deploy.email set', engine: async () => engine },
    );
    expect(await checkDocker(ctx)).toMatchObject({ status: 'pass' });
    const result = await checkPorts(ctx);
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/0\.0\.0\.0:80 held by this deployment's mcpgw-test-traefik-1/);
    expect(result.detail).toMatch(/0\.0\.0\.0:443 is in use by another program/);
    expect(result.fix).toMatch(/deploy\.httpsPort/);
  });

  it('warns when a privileged port cannot be tested as this user', async () => {
    const ctx = await project({ deploy: { router: 'builtin', httpPort: 80 } }, { bindTest: async () => 'denied' }, { reason: 'deploy.project set' });
    expect(await checkPorts(ctx)).toMatchObject({ status: 'warn' });
  });
});

describe('doctor: secrets, Redis and OpenID Connect', () => {
  it('fails a secret other users can read, with the chmod that fixes it', async () => {
    const ctx = await project({});
    await chmod(ctx.paths.signingKeys, 0o644);
    const result = await checkSecrets(ctx);
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/mode 0644/);
    expect(result.fix).toBe(`chmod 600 ${ctx.paths.signingKeys}`);
  });

  it('fails any other file in .secrets/ that others can read', async () => {
    const ctx = await project({});
    await writeFile(join(ctx.paths.secretsDir, 'github-app.pem'), 'key', { mode: 0o644 });
    expect(await checkSecrets(ctx)).toMatchObject({ status: 'fail', fix: `chmod 600 ${join(ctx.paths.secretsDir, 'github-app.pem')}` });
  });

  it('fails a missing GitHub client secret and the header values of a remote server', async () => {
    const ctx = await project({
      provider: { type: 'github', clientId: 'Iv1.abc' },
      servers: { docs: { url: 'https://docs.example.com/mcp', headers: ['Authorization'] } },
    });
    const result = await checkSecrets(ctx);
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/GitHub client secret/);
    expect(result.detail).toMatch(/header values of server docs/);
    expect(result.fix).toMatch(/github register/);
  });

  it('reports Redis as unreachable with the store error, and skips it for the embedded store', async () => {
    const failing = await project(
      { store: { type: 'redis', url: 'redis://127.0.0.1:1/0' } },
      {
        pingRedis: () =>
          Promise.reject(
            new GatewayError('ERR_STORE_UNREACHABLE', 'cannot reach Redis at redis://127.0.0.1:1/0: connect ECONNREFUSED', { hint: 'start Redis' }),
          ),
      },
    );
    expect(await checkRedis(failing)).toMatchObject({ status: 'fail', fix: 'start Redis' });
    expect(await checkRedis(await project({}))).toMatchObject({ status: 'skip' });
  });

  it('passes OpenID Connect discovery that names the configured issuer, and fails one that names another', async () => {
    const issuer = 'https://login.example.com';
    const discovery = (named: string): typeof fetch =>
      (async () =>
        Response.json({
          issuer: named,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
        })) as typeof fetch;
    const oidc = { provider: { type: 'oidc' as const, issuer, clientId: 'gw' }, allowedUsers: ['a@example.com'] };
    expect(await checkProvider(await project(oidc, { fetch: discovery(issuer) }))).toMatchObject({ status: 'pass' });
    expect(await checkProvider(await project(oidc, { fetch: discovery('https://elsewhere.example.com') }))).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/issuer/),
    });
  });
});

describe('doctor: the GitHub credentials (against the GitHub stand-in)', () => {
  let github: GitHubStandIn;
  beforeAll(async () => {
    github = await startGitHubStandIn();
  });
  afterAll(async () => {
    await github.close();
  });

  async function githubProject(secret: string, url = github.url): Promise<DoctorContext> {
    const ctx = await project({ provider: { type: 'github', clientId: 'test-client-id', url } });
    await writeSecret(ctx.paths.githubClientSecret, `${secret}\n`);
    return ctx;
  }

  it('passes right credentials without anybody logging in (GitHub answers bad_verification_code)', async () => {
    const before = github.requests.length;
    expect(await checkProvider(await githubProject('test-client-secret'))).toMatchObject({ status: 'pass' });
    const sent = github.requests.slice(before);
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /login/oauth/access_token']);
  });

  it('fails a wrong client secret (incorrect_client_credentials) with the fix', async () => {
    const result = await checkProvider(await githubProject('not-the-secret'));
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/incorrect_client_credentials/);
    expect(result.detail).not.toContain('not-the-secret');
    expect(result.fix).toMatch(/github register/);
  });

  it('fails with the URL when GitHub cannot be reached', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await checkProvider(await githubProject('test-client-secret', url));
    expect(result.status).toBe('fail');
    expect(result.detail).toContain(`${url}/login/oauth/access_token`);
  });
});

describe('doctor: servers', () => {
  it('passes a server that answers initialize and fails one that exits, with a fix', async () => {
    const ctx = await project({});
    const good = await checkServer(ctx, 'echo', { command: process.execPath, args: [ECHO_SERVER], env: {} });
    expect(good).toMatchObject({ name: 'server:echo', status: 'pass', detail: expect.stringMatching(/answered initialize .*echo-fixture/) });
    const bad = await checkServer(ctx, 'broken', { command: 'false', args: [], env: {} });
    expect(bad).toMatchObject({ name: 'server:broken', status: 'fail', detail: expect.stringMatching(/exited \(code 1\) before answering initialize/) });
    expect(bad.fix).toMatch(/servers\.broken/);
  });

  it("quotes the last stderr lines of a server that dies, and fails a command that isn't installed", async () => {
    const ctx = await project({});
    const noisy = await checkServer(ctx, 'noisy', { command: process.execPath, args: ['-e', "console.error('missing API_KEY'); process.exit(2)"], env: {} });
    expect(noisy.detail).toMatch(/missing API_KEY/);
    const absent = await checkServer(ctx, 'absent', { command: 'mcp-gateway-no-such-command', args: [], env: {} });
    expect(absent).toMatchObject({ status: 'fail', detail: expect.stringMatching(/not installed/) });
  });

  describe('a remote server', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.method === 'DELETE') return void res.writeHead(204).end();
        if (req.headers.authorization !== 'Bearer right') return void res.writeHead(401).end();
        res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' });
        res.end(
          `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 'mcp-gateway-doctor', result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'remote-fixture', version: '1' } } })}\n\n`,
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('passes with the configured header values and fails when the server refuses them', async () => {
      const ctx = await project({ servers: { docs: { url, headers: ['Authorization'] } } });
      await mkdir(join(ctx.paths.secretsDir, 'servers'), { recursive: true });
      await writeSecret(join(ctx.paths.secretsDir, 'servers', 'docs.headers.json'), JSON.stringify({ Authorization: 'Bearer right' }));
      const server = { url: new URL(url), headers: ['Authorization'] };
      expect(await checkServer(ctx, 'docs', server)).toMatchObject({ status: 'pass', detail: expect.stringMatching(/remote-fixture/) });
      await writeSecret(join(ctx.paths.secretsDir, 'servers', 'docs.headers.json'), JSON.stringify({ Authorization: 'Bearer wrong' }));
      expect(await checkServer(ctx, 'docs', server)).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/HTTP 401/),
        fix: expect.stringMatching(/--header/),
      });
    });
  });
});

describe('runDoctor', () => {
  it('reports an invalid config with its dotted path and skips the checks that need it', async () => {
    const dir = await makeTempDir('mcpgw-doctor-');
    dirs.push(dir);
    await writeFile(
      join(dir, 'mcp-gateway.yaml'),
      'publicUrl: http://127.0.0.1:8080\nprovider: { type: local, user: alice }\nallowedUsers: [alice]\nservers:\n  time:\n    command: ""\n',
    );
    const results = await runDoctor(dir, defaultDoctorDeps());
    expect(results[0]).toMatchObject({ name: 'config', status: 'fail', detail: expect.stringContaining('servers.time.command: must not be empty') });
    expect(results.slice(1).every((r) => r.status === 'skip')).toBe(true);
  });
});

describe('runDoctor on a Docker project: containers and images, not this host', () => {
  const ABSENT = { absent: { command: 'mcp-gateway-no-such-command' } };
  const running = (service: string, health: DoctorContainer['health'] = 'healthy', problem?: string): DoctorContainer => ({
    name: `mcpgw-test-${service}-1`,
    service,
    state: 'running',
    health,
    exitCode: undefined,
    problem,
  });
  const engineWith = (containers: DoctorContainer[], present: (image: string) => boolean = () => true): DoctorDockerEngine => ({
    endpoint: 'unix:///var/run/docker.sock',
    local: true,
    projectContainers: async () => [],
    containers: async (project) => (project === 'mcpgw-test' ? containers : []),
    hasImage: async (image) => present(image),
  });

  async function doctorOn(input: Partial<GatewayConfigInput>, engine: DoctorDockerEngine): Promise<Map<string, CheckResult>> {
    const dir = await makeTempDir('mcpgw-doctor-');
    dirs.push(dir);
    await writeConfig(dir, {
      publicUrl: 'http://127.0.0.1:8080',
      provider: { type: 'local', user: 'alice' },
      allowedUsers: ['alice'],
      servers: ABSENT,
      ...input,
    });
    await writeNewKeyFile(projectPaths(dir).signingKeys);
    const results = await runDoctor(dir, defaultDoctorDeps({ timeoutMs: 2_000, connectDocker: async () => engine, bindTest: async () => 'free' }));
    return new Map(results.map((r) => [r.name, r]));
  }

  it("judges a server by its bridge container, never by this host's PATH", async () => {
    const healthy = engineWith([running('redis'), running('auth'), running('router'), running('bridge-absent')]);
    const checks = await doctorOn({ deploy: { project: 'mcpgw-test', router: 'builtin' } }, healthy);
    expect(checks.get('images')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/node:20-bookworm-slim \(deploy\.nodeImage\) present/) });
    expect(checks.get('containers')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/mcpgw-test-auth-1 running, healthy/) });
    expect(checks.get('server:absent')).toMatchObject({ status: 'pass', detail: 'mcpgw-test-bridge-absent-1 running, healthy' });
    expect(checks.get('redis')?.status).toBe('skip');
  });

  it('fails an unhealthy bridge with its healthcheck output and the logs to read', async () => {
    const sick = engineWith([running('redis'), running('auth'), running('router'), running('bridge-absent', 'unhealthy', 'spawn uvx ENOENT')]);
    const checks = await doctorOn({ deploy: { project: 'mcpgw-test', router: 'builtin' } }, sick);
    const server = checks.get('server:absent');
    expect(server).toMatchObject({ status: 'fail', detail: expect.stringMatching(/unhealthy: spawn uvx ENOENT/) });
    expect(server?.fix).toMatch(/mcp-gateway logs bridge-absent --dir /);
  });

  it('fails a missing service container and a missing image, each with the fix', async () => {
    const partial = engineWith([running('redis'), running('auth')], (image) => image !== 'redis:7-alpine');
    const checks = await doctorOn({ deploy: { project: 'mcpgw-test', router: 'builtin' } }, partial);
    expect(checks.get('containers')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/router has no container/) });
    expect(checks.get('containers')?.fix).toMatch(/^mcp-gateway up --dir /);
    expect(checks.get('images')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/redis:7-alpine \(deploy\.redisImage\) is not on this host/) });
    expect(checks.get('images')?.fix).toMatch(/docker pull redis:7-alpine/);
  });

  it('checks the host, not Docker, for the same project run embedded', async () => {
    const checks = await doctorOn({}, engineWith([]));
    expect(checks.get('server:absent')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/not installed/) });
    for (const name of ['docker', 'images', 'containers']) expect(checks.get(name)?.status).toBe('skip');
  });
});

const dockerReachable = await new Docker().ping().then(
  () => true,
  () => false,
);

describe.skipIf(!dockerReachable && !process.env['CI'])('mcp-gateway doctor on a rendered Docker project (the real engine)', () => {
  let dir: string;
  const project = `mcpgw-doctor-${randomBytes(4).toString('hex')}`;
  // No such image exists anywhere, so the check cannot pass by luck.
  const absentImage = `mcpgw-doctor-absent-${randomBytes(4).toString('hex')}:1`;
  let checks: Map<string, CheckResult>;
  let code: number | null;

  beforeAll(async () => {
    if (!dockerReachable) throw new Error('Docker is required in CI: install docker.io (apt-get install -y docker.io) and start dockerd');
    dir = await makeTempDir('mcpgw-doctor-docker-');
    expect((await runCli(localInitArgs(dir))).code).toBe(0);
    const file = join(dir, 'mcp-gateway.yaml');
    const config = parse(await readFile(file, 'utf8')) as { deploy: Record<string, unknown> };
    Object.assign(config.deploy, { project, router: 'builtin', redisImage: absentImage });
    await writeFile(file, stringify(config));
    expect((await runCli(['add-server', 'absent', '--dir', dir, '--command', 'mcp-gateway-no-such-command'])).code).toBe(0);
    const render = await runCli(['render', '--dir', dir]);
    expect(render.code, render.stderr).toBe(0);
    const result = await runCli(['doctor', '--dir', dir, '--json']);
    code = result.code;
    checks = new Map((JSON.parse(result.stdout) as CheckResult[]).map((r) => [r.name, r]));
  }, 120_000);
  afterAll(() => removeTempDir(dir));

  it('exits 1 and names the engine it reached, never [object Promise]', () => {
    expect(code).toBe(1);
    expect(checks.get('docker')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/deploy\/compose\.yaml was rendered/) });
    expect(checks.get('docker')?.detail).not.toContain('[object Promise]');
  });

  it('fails the containers that do not exist, with mcp-gateway up as the fix', () => {
    expect(checks.get('containers')).toMatchObject({ status: 'fail', detail: expect.stringContaining(`no container of ${project} exists`) });
    expect(checks.get('containers')?.fix).toBe(`mcp-gateway up --dir ${dir}`);
  });

  it('fails the image that is not on the engine, with the fix', () => {
    const images = checks.get('images');
    expect(images).toMatchObject({ status: 'fail', detail: expect.stringContaining(`${absentImage} (redis) is not on this host`) });
    expect(images?.fix).toContain(`docker pull ${absentImage}`);
  });

  it("does not look for the server's command on this host's PATH", () => {
    const server = checks.get('server:absent');
    expect(server?.status).toBe('skip');
    expect(server?.detail).not.toMatch(/not installed|PATH/);
    expect(server?.detail).toMatch(/bridge-absent runs after mcp-gateway up/);
  });
});

describe('mcp-gateway doctor (the CLI, on a real project)', () => {
  let github: GitHubStandIn;
  let dir: string;
  const byName = (results: CheckResult[]) => new Map(results.map((r) => [r.name, r]));
  beforeAll(async () => {
    github = await startGitHubStandIn();
    dir = await makeTempDir('mcpgw-doctor-cli-');
    const publicUrl = `http://127.0.0.1:${await freePort()}`;
    const init = await runCli([
      'init',
      '--dir',
      dir,
      '--yes',
      '--public-url',
      publicUrl,
      '--allowed-users',
      'alice',
      '--github-client-id',
      'test-client-id',
      '--github-client-secret',
      'test-client-secret',
      '--github-url',
      github.url,
    ]);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect((await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_SERVER}"`])).code).toBe(0);
    expect((await runCli(['add-server', 'broken', '--dir', dir, '--command', 'false'])).code).toBe(0);
  });
  afterAll(async () => {
    await github?.close();
    await removeTempDir(dir);
  });

  it('exits 1, passes the working server and GitHub, fails the broken server with a fix, skips the loopback domain', async () => {
    const result = await runCli(['doctor', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^✓ server:echo +`.*echo-mcp-server\.mjs` answered initialize/m);
    expect(result.stdout).toMatch(/^✗ server:broken +`false`: the server exited \(code 1\)/m);
    expect(result.stdout).toMatch(/^ +fix: run `false` in /m);
    expect(result.stdout).toMatch(/^✓ provider +GitHub at http:\/\/127\.0\.0\.1:\d+ accepts client id test-client-id/m);
    expect(result.stdout).toMatch(/^- domain +skipped: publicUrl http:\/\/127\.0\.0\.1:\d+ is on loopback/m);
    expect(result.stderr).toMatch(/^error: 1 of \d+ checks failed: server:broken$/m);
  });

  it('--json prints the results as one JSON array', async () => {
    const result = await runCli(['doctor', '--dir', dir, '--json']);
    expect(result.code).toBe(1);
    const checks = byName(JSON.parse(result.stdout) as CheckResult[]);
    expect(checks.get('server:echo')?.status).toBe('pass');
    expect(checks.get('server:broken')).toMatchObject({ status: 'fail', fix: expect.any(String) });
    expect(checks.get('secrets')?.status).toBe('pass');
    expect(checks.get('domain')?.status).toBe('skip');
  });

  it('fails a wrong GitHub secret and a 0644 secret file, each with its fix', async () => {
    const paths = projectPaths(dir);
    await writeSecret(paths.githubClientSecret, 'wrong-client-secret\n');
    await chmod(paths.githubClientSecret, 0o644);
    const checks = byName(JSON.parse((await runCli(['doctor', '--dir', dir, '--json'])).stdout) as CheckResult[]);
    expect(checks.get('provider')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/incorrect_client_credentials/) });
    expect(checks.get('secrets')).toMatchObject({ status: 'fail', fix: `chmod 600 ${paths.githubClientSecret}` });
  });
});
