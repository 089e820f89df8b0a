import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Docker from 'dockerode';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_NAMESPACE } from '../cli/deploy/swarm/stack-names.js';
import { serverDataDir } from '../runtime/config/server-mounts.js';
import type { CliResult } from './helpers/cli-run.js';
import { fetchInContainer } from './helpers/container-fetch.js';
import { freePort } from './helpers/free-port.js';
import { approveConsent, TestOAuthProvider } from './helpers/sdk-oauth-provider.js';
import {
  labelledObjects,
  startSwarmProject,
  statelessToolCall,
  SWARM_SKIP_MESSAGE,
  swarmAvailability,
  type SwarmProject,
  waitForOk,
} from './helpers/swarm-project.js';
import { stepTimings } from './helpers/step-timings.js';

/**
 * The swarm target end to end on a real single-node swarm (this machine has no IPVS: no ingress
 * mesh, no VIPs; host-mode ports and DNS round-robin work, which is all the stack uses):
 * `up --target swarm` converges with 2 auth and 2 bridge replicas, `status` shows them, the
 * published router answers, the MCP SDK's client goes through registration, GitHub login and
 * consent and a tool call reaches the replicated server, `logs` shows the router's lines, a
 * second `up` changes nothing, stack.yaml deploys without the CLI (`docker stack deploy`), and
 * `down` leaves nothing labelled with the project. Setup is test/helpers/swarm-project.ts.
 */

const docker = new Docker();
const availability = await swarmAvailability(docker);
const skip = !availability.ready && !process.env['CI'];
if (skip) console.warn(`skipping test/swarm-e2e.test.ts: ${availability.reason}; ${SWARM_SKIP_MESSAGE}`);

const REDIRECT = 'http://127.0.0.1:53682/callback';

interface Session {
  login: string;
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** The hostname of the bridge task that answered its first call: its owner. */
  owner: string;
}

type Outcome = { ok: true; host: string; at: number } | { ok: false; status: number; message: string; at: number };

/** Which bridge task answered: the probe's `host` tool reports its container's hostname. */
async function hostOf(client: Client): Promise<string> {
  const result = await client.callTool({ name: 'host', arguments: {} });
  return (result.content as Array<{ text: string }>)[0]!.text;
}
const run = promisify(execFile);
/** The docker CLI (stack deploy is a client-side command); /usr/local/bin/docker on this machine. */
const DOCKER_CLI = process.env['DOCKER_CLI'] ?? 'docker';

/** `docker stack rm`, then what it leaves while the tasks stop: their networks (and the volumes, which stack rm never removes). */
async function removeStack(name: string): Promise<void> {
  await run(DOCKER_CLI, ['stack', 'rm', name]).catch(() => {});
  const filters = { label: [`${STACK_NAMESPACE}=${name}`] };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const networks = await docker.listNetworks({ filters });
    const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
    if (networks.length === 0 && volumes.length === 0) return;
    for (const network of networks)
      await docker
        .getNetwork(network.Id)
        .remove()
        .catch(() => {});
    for (const volume of volumes)
      await docker
        .getVolume(volume.Name)
        .remove()
        .catch(() => {});
    if (Date.now() > deadline) throw new Error(`left of the stack ${name}: ${[...networks.map((n) => n.Name), ...volumes.map((v) => v.Name)].join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

function ok(result: CliResult): CliResult {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
}

describe.skipIf(skip)('mcp-gateway up --target swarm on a single-node swarm', () => {
  let p: SwarmProject;
  let second: string | undefined;
  const { timings, timed } = stepTimings();

  beforeAll(async () => {
    if (!availability.ready) throw new Error(`a swarm is required in CI: ${availability.reason}; ${SWARM_SKIP_MESSAGE}`);
    p = await timed('setup', () => startSwarmProject(docker, { bridgeReplicas: 2, authReplicas: 2 }));
  }, 240_000);

  afterAll(async () => {
    if (second !== undefined) await removeStack(second).catch(() => {});
    await p?.close();
    console.info(`swarm e2e timings (ms): ${JSON.stringify(timings)}`);
  }, 120_000);

  it('converges: redis, two auth, the router and two bridge replicas run healthy, and status shows them', async () => {
    const up = ok(await timed('first up', () => p.cli(p.upArgs)));
    expect(up.stdout).toContain(`${p.publicUrl}/probe/mcp`);
    expect(up.stdout).toMatch(/4 created/);
    const status = JSON.parse(ok(await p.cli(['status', '--target', 'swarm', '--dir', p.dir, '--json'])).stdout) as {
      mode: string;
      project: string;
      services: Array<{ service: string; running: number; desired: number; ports: string[] }>;
    };
    expect(status).toMatchObject({ mode: 'swarm', project: p.project });
    expect(status.services.map((s) => `${s.service} ${s.running}/${s.desired}`)).toEqual(['auth 2/2', 'bridge-probe 2/2', 'redis 1/1', 'router 1/1']);
    expect(status.services.find((s) => s.service === 'router')!.ports).toEqual([`${p.port}->8080/tcp (host)`]);
    // Without --target, status follows the deploy folder: stack.yaml was rendered.
    expect(ok(await p.cli(['status', '--dir', p.dir])).stdout).toMatch(/bridge-probe\s+\S+\s+2\/2/);
    // Every service by DNS round-robin: no VIP, which needs IPVS.
    for (const service of await docker.listServices({ filters: { label: [`${STACK_NAMESPACE}=${p.project}`] } })) {
      expect({ name: service.Spec?.Name, mode: service.Spec?.EndpointSpec?.Mode }).toEqual({ name: service.Spec?.Name, mode: 'dnsrr' });
    }
  }, 300_000);

  it('answers /health on the published port', async () => {
    const res = await waitForOk(`${p.publicUrl}/health`);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  }, 90_000);

  it('takes the MCP SDK client through registration, GitHub login and consent, then calls a tool of the replicated server', async () => {
    const endpoint = new URL(`${p.publicUrl}/probe/mcp`);
    const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
    const client = new Client({ name: 'swarm-e2e', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    await new StreamableHTTPClientTransport(endpoint, { authProvider: provider }).finishAuth(provider.code());
    const token = provider.tokens()!.access_token;
    // 2026-07-28 requests are stateless, so whichever replica the router picks answers; 2025
    // sessions need the router's per-session routing (runtime/router/replicas/).
    for (let i = 0; i < 4; i++) {
      const reply = await statelessToolCall(endpoint.href, token, 'where');
      const text = ((reply['result'] as { content: Array<{ text: string }> }).content[0] ?? { text: '' }).text;
      expect(JSON.parse(text)).toEqual({ cwd: serverDataDir(p.dir, 'probe'), home: serverDataDir(p.dir, 'probe') });
    }
    expect(p.github.requests.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['POST /login/oauth/access_token', 'GET /api/v3/user']));
  }, 60_000);

  it("shows the router's log lines through the manager", async () => {
    const logs = ok(await p.cli(['logs', 'router', '--target', 'swarm', '--dir', p.dir, '--tail', '20']));
    const lines = logs.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^router \| /);
    expect(logs.stdout).toContain('"runtime":"router"');
    // A replicated service's lines name their task's slot.
    const bridge = ok(await p.cli(['logs', 'probe', '--target', 'swarm', '--dir', p.dir, '--tail', '5']))
      .stdout.trim()
      .split('\n');
    expect(new Set(bridge.map((line) => line.split(' | ')[0]!.trim()))).toEqual(new Set(['bridge-probe.1', 'bridge-probe.2']));
  }, 60_000);

  it('changes nothing on a second up', async () => {
    const before = (await docker.listServices({ filters: { label: [`${STACK_NAMESPACE}=${p.project}`] } })).map((s) => `${s.Spec?.Name}@${s.Version?.Index}`);
    const again = ok(await timed('second up', () => p.cli(p.upArgs)));
    expect(again.stdout).toContain('4 unchanged');
    const after = (await docker.listServices({ filters: { label: [`${STACK_NAMESPACE}=${p.project}`] } })).map((s) => `${s.Spec?.Name}@${s.Version?.Index}`);
    expect(after.sort()).toEqual(before.sort());
  }, 120_000);

  describe('sessions over two bridge replicas (the proof of issue 16)', () => {
    const tokens: Record<string, string> = {};
    const endpoint = (): URL => new URL(`${p.publicUrl}/probe/mcp`);

    /** The SDK client through the whole OAuth flow as `login` (registration, GitHub login, consent, token): its token opens that user's sessions. */
    async function authorize(login: 'alice' | 'mallory'): Promise<void> {
      p.github.setCurrentUser(login);
      const provider = new TestOAuthProvider(REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
      const first = new Client({ name: `swarm-${login}`, version: '1.0.0' });
      await expect(first.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
      await new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }).finishAuth(provider.code());
      tokens[login] = provider.tokens()!.access_token;
    }

    async function openSession(login: string): Promise<Session> {
      const transport = new StreamableHTTPClientTransport(endpoint(), { requestInit: { headers: { authorization: `Bearer ${tokens[login]}` } } });
      const client = new Client({ name: `swarm-${login}`, version: '1.0.0' });
      await client.connect(transport);
      return { login, client, transport, owner: await hostOf(client) };
    }

    /** Ends a session as a client that is done does (DELETE: the bridge frees its child and the user's session count), then closes it. */
    async function end(session: Session): Promise<void> {
      await session.transport.terminateSession().catch(() => {});
      await session.client.close().catch(() => {});
    }

    /** The hostnames of the bridge's running task containers (a task's hostname is its container's short ID): who may answer. */
    async function bridgeTasks(): Promise<Map<string, string>> {
      const containers = await docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${p.project}_bridge-probe`] } });
      const tasks = new Map<string, string>();
      for (const container of containers) tasks.set((await docker.getContainer(container.Id).inspect()).Config.Hostname, container.Id);
      return tasks;
    }

    /** One 2026-07-28 call as `login`: stateless, any replica (the user's by rendezvous) answers. */
    async function modernHost(login: string): Promise<string> {
      const reply = await statelessToolCall(endpoint().href, tokens[login]!, 'host');
      return ((reply['result'] as { content: Array<{ text: string }> }).content[0] ?? { text: '' }).text;
    }

    /** Every session asked which host answers, at once: what each got, or the HTTP status it failed with. */
    async function round(sessions: readonly Session[]): Promise<Outcome[]> {
      return Promise.all(
        sessions.map(async (session) => {
          try {
            return { ok: true as const, host: await hostOf(session.client), at: Date.now() };
          } catch (err) {
            return { ok: false as const, status: (err as { code?: number }).code ?? -1, message: (err as Error).message, at: Date.now() };
          }
        }),
      );
    }

    /** Until the bridge service runs `replicas` tasks again (swarm replaces a killed one). */
    async function waitForReplicas(replicas: number): Promise<void> {
      await expect.poll(async () => (await bridgeTasks()).size, { timeout: 90_000, interval: 1_000 }).toBe(replicas);
      await expect
        .poll(async () => (await docker.listServices({ filters: { name: [`${p.project}_bridge-probe`] }, status: true }))[0]?.ServiceStatus?.RunningTasks, {
          timeout: 90_000,
          interval: 1_000,
        })
        .toBe(replicas);
    }

    let sessions: Session[] = [];
    afterAll(async () => {
      await Promise.all(sessions.map(end));
    });

    it('spreads 40 SDK sessions of two users over both replicas; every call of a session is answered by its owner', async () => {
      await timed('oauth flows', async () => {
        await authorize('alice');
        await authorize('mallory');
      });
      sessions = await timed('40 sessions', async () => {
        const opened: Session[] = [];
        // Ten at a time: what a handful of clients connecting together do.
        for (let i = 0; i < 4; i++) opened.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => openSession(j % 2 === 0 ? 'alice' : 'mallory')))));
        return opened;
      });
      const tasks = await bridgeTasks();
      expect(tasks.size).toBe(2);
      const perOwner = new Map<string, number>();
      for (const session of sessions) perOwner.set(session.owner, (perOwner.get(session.owner) ?? 0) + 1);
      // New sessions go round-robin over the replicas that take them.
      expect([...perOwner.keys()].sort()).toEqual([...tasks.keys()].sort());
      for (const count of perOwner.values()) expect(count).toBeGreaterThanOrEqual(10);
      for (let i = 0; i < 3; i++) {
        const outcomes = await round(sessions);
        expect(outcomes.map((o) => (o.ok ? o.host : `failed ${o.status}`))).toEqual(sessions.map((s) => s.owner));
      }
      // The router relays the server's metrics from both replicas at one path, each sample labelled with its replica.
      const [router] = await docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${p.project}_router`] } });
      const relayed = await fetchInContainer(docker, router!.Id, 'http://127.0.0.1:9464/metrics/bridge-probe');
      expect(relayed.status).toBe(200);
      const gauges = [...relayed.body.matchAll(/^mcp_gateway_sessions\{replica="([^"]+)",server="probe"\} (\d+)$/gm)];
      expect(new Set(gauges.map((m) => m[1])).size).toBe(2);
      expect(gauges.reduce((sum, m) => sum + Number(m[2]), 0)).toBeGreaterThanOrEqual(sessions.length);
      // A session id is bound to its user: mallory's token with alice's session is 404 and routed nowhere.
      const alices = sessions.find((s) => s.login === 'alice')!;
      const stolen = await fetch(endpoint(), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens['mallory']}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': alices.transport.sessionId!,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'host', arguments: {} } }),
      });
      expect(stolen.status).toBe(404);
      // 2026-07-28 requests carry no session: a user's go to one replica (rendezvous), and no session id is issued.
      for (const login of ['alice', 'mallory']) {
        const hosts = new Set(await Promise.all(Array.from({ length: 4 }, () => modernHost(login))));
        expect(hosts.size).toBe(1);
        expect(tasks.has([...hosts][0]!)).toBe(true);
      }
    }, 240_000);

    it("ends only the sessions of the replica whose container is killed; the others' calls, new sessions and 2026 requests see zero errors", async () => {
      const tasks = await bridgeTasks();
      const victim = sessions[0]!.owner;
      const survivor = [...tasks.keys()].find((host) => host !== victim)!;
      await docker.getContainer(tasks.get(victim)!).kill();
      const errors: string[] = [];
      for (let i = 0; i < 3; i++) {
        const outcomes = await round(sessions);
        for (const [j, outcome] of outcomes.entries()) {
          const session = sessions[j]!;
          // The owner is gone: 404, and a client re-initializes as the spec says.
          if (session.owner === victim) expect(outcome.ok ? `answered by ${outcome.host}` : outcome.status).toBe(404);
          else if (!outcome.ok || outcome.host !== survivor) errors.push(`session ${j}: ${outcome.ok ? outcome.host : outcome.message}`);
        }
        for (const login of ['alice', 'mallory']) {
          const host = await modernHost(login).catch((err: Error) => `failed: ${err.message}`);
          if (host !== survivor) errors.push(`2026 ${login}: ${host}`);
        }
        const fresh = await openSession(i % 2 === 0 ? 'alice' : 'mallory').catch((err: Error) => err);
        if (fresh instanceof Error) errors.push(`new session: ${fresh.message}`);
        else {
          if (fresh.owner !== survivor) errors.push(`new session on ${fresh.owner}`);
          await end(fresh);
        }
      }
      expect(errors).toEqual([]);
      // Swarm replaces the killed task; the new replica takes new sessions.
      await timed('replacement task', () => waitForReplicas(2));
      const kept = sessions.filter((s) => s.owner !== victim);
      await Promise.all(sessions.filter((s) => s.owner === victim).map(end));
      sessions = [...kept, ...(await Promise.all(Array.from({ length: 10 }, (_, j) => openSession(j % 2 === 0 ? 'alice' : 'mallory'))))];
      const owners = new Set(sessions.map((s) => s.owner));
      expect(owners.size).toBe(2);
      expect(owners.has(victim)).toBe(false);
    }, 240_000);

    it("rolls an update of the server start-first: no session's call fails while its replica runs, and 2026 requests and new sessions never fail", async () => {
      const service = docker.getService((await docker.listServices({ filters: { name: [`${p.project}_bridge-probe`] } }))[0]!.ID);
      const before = (await service.inspect()) as Docker.Service;
      const oldTasks = await bridgeTasks();
      const started = Date.now();
      // What a new image or `docker service update --force` does: every task replaced, one at a time, by the stack's update_config.
      const template = before.Spec!.TaskTemplate as Docker.ContainerTaskSpec & { ForceUpdate?: number };
      await service.update({
        _query: { version: before.Version!.Index },
        _body: { ...before.Spec, TaskTemplate: { ...template, ForceUpdate: (template.ForceUpdate ?? 0) + 1 } },
      });
      const history: Outcome[][] = [];
      const errors: string[] = [];
      let state: string | undefined;
      await timed('rolling update', async () => {
        const deadline = Date.now() + 180_000;
        while (Date.now() < deadline) {
          history.push(await round(sessions));
          for (const login of ['alice', 'mallory']) {
            await modernHost(login).catch((err: Error) => void errors.push(`2026 ${login}: ${err.message}`));
          }
          await openSession('alice').then(
            (fresh) => end(fresh),
            (err: Error) => void errors.push(`new session: ${err.message}`),
          );
          const inspected = (await service.inspect()) as Docker.Service;
          state =
            inspected.UpdateStatus?.StartedAt !== undefined && Date.parse(inspected.UpdateStatus.StartedAt) >= started - 1_000
              ? inspected.UpdateStatus.State
              : undefined;
          if (state === 'completed' || state === 'paused' || state === 'rollback_completed') break;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      });
      expect(state).toBe('completed');
      expect(errors).toEqual([]);
      const newTasks = await bridgeTasks();
      expect([...newTasks.keys()].filter((host) => oldTasks.has(host))).toEqual([]);
      // Each session: answered by its owner until the owner's task stopped, then 404 (never another error, never an answer after).
      for (const [j, session] of sessions.entries()) {
        const outcomes = history.map((r) => r[j]!);
        const firstFailure = outcomes.findIndex((o) => !o.ok);
        const served = firstFailure === -1 ? outcomes : outcomes.slice(0, firstFailure);
        expect(
          served.every((o) => o.ok && o.host === session.owner),
          `session ${j}`,
        ).toBe(true);
        // Start-first, then the drain: its replica kept answering while its replacement started and for the drain period (2s) after.
        expect(served.at(-1)!.at - started, `session ${j} answered for ${served.at(-1)!.at - started} ms of the update`).toBeGreaterThan(2_000);
        const failed = firstFailure === -1 ? [] : outcomes.slice(firstFailure);
        expect(
          failed.map((o) => (o.ok ? `answered after a failure by ${o.host}` : o.status)),
          `session ${j}: ${failed.map((o) => (o.ok ? o.host : o.message)).join(' | ')}`,
        ).toEqual(failed.map(() => 404));
        if (firstFailure !== -1) {
          // It failed only as its owner stopped: the container ended within the few seconds of its shutdown
          // (listener closed, children stopped) after the first 404, not long after.
          const state = (await docker.getContainer(oldTasks.get(session.owner)!).inspect()).State;
          expect(state.Running, `owner of session ${j}`).toBe(false);
          expect(Date.parse(state.FinishedAt) - outcomes[firstFailure]!.at, `session ${j}: its owner ended this long after its first 404`).toBeLessThan(3_000);
        }
      }
      // Both old replicas are gone now: every old session ended with a 404; the new replicas take sessions.
      expect((await round(sessions)).every((o) => !o.ok && o.status === 404)).toBe(true);
      await Promise.all(sessions.map(end));
      sessions = await Promise.all(Array.from({ length: 6 }, (_, j) => openSession(j % 2 === 0 ? 'alice' : 'mallory')));
      expect(new Set(sessions.map((s) => s.owner))).toEqual(new Set(newTasks.keys()));
    }, 300_000);
  });

  it('deploys stack.yaml without the CLI: docker stack deploy under a second name', async () => {
    // Short: swarm names secrets <stack>_<key> in at most 64 characters.
    second = `two${process.pid}`;
    const deployDir = join(p.dir, 'deploy');
    // The operator's one edit: another host port, since the first stack's router holds this one on this node.
    const port = await freePort();
    const doc = parseDocument(await readFile(join(deployDir, 'stack.yaml'), 'utf8'));
    doc.setIn(['services', 'router', 'ports', 0, 'published'], port);
    await writeFile(join(deployDir, 'stack-two.yaml'), doc.toString());
    try {
      await timed('stack deploy', () => run(DOCKER_CLI, ['stack', 'deploy', '-c', 'stack-two.yaml', second!], { cwd: deployDir }));
      await timed('stack converged', () => waitForOk(`http://127.0.0.1:${port}/health`, 150_000));
      const services = (await docker.listServices({ filters: { label: [`${STACK_NAMESPACE}=${second}`] } })).map((s) => s.Spec?.Name).sort();
      expect(services).toEqual(['auth', 'bridge-probe', 'redis', 'router'].map((s) => `${second}_${s}`));
      // The same project label, another namespace: the first project's status does not count it.
      const status = JSON.parse(ok(await p.cli(['status', '--target', 'swarm', '--dir', p.dir, '--json'])).stdout) as { services: Array<{ name: string }> };
      expect(status.services.map((s) => s.name).every((name) => name.startsWith(`${p.project}_`))).toBe(true);
    } finally {
      await timed('stack rm', () => removeStack(second!));
      second = undefined;
    }
  }, 300_000);

  it('down --target swarm --volumes leaves no service, network, secret, config or volume with the project label', async () => {
    const down = ok(await timed('down', () => p.cli(['down', '--target', 'swarm', '--dir', p.dir, '--volumes'])));
    expect(down.stdout).toContain(`${p.project} is down`);
    expect(await labelledObjects(docker, p.project)).toEqual({ services: [], networks: [], secrets: [], configs: [], volumes: [] });
    const status = JSON.parse(ok(await p.cli(['status', '--target', 'swarm', '--dir', p.dir, '--json'])).stdout) as { services: unknown[] };
    expect(status.services).toEqual([]);
  }, 180_000);
});
