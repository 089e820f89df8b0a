import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayUrls } from '../runtime/auth/gateway-urls.js';
import { loadConfig } from '../runtime/config/load-config.js';
import { startGitHubStandIn, type GitHubStandIn } from './github-stand-in/github-stand-in.js';
import { makeTempDir, removeTempDir, runCli, githubInitArgs } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ECHO_FIXTURE } from './helpers/gateway-harness.js';
import { CLIENT_REDIRECT, loginAndConsent, newPkce, type HasUrls } from './helpers/oauth-flow.js';
import { ServeProcess } from './helpers/serve-process.js';

/*
 * The whole gateway under kill -9 (test/store-crash.test.ts is the store alone). The bugs this
 * pins: the JSON-file store acknowledged writes before they reached disk (10 kills of `serve`
 * during a burst lost 142 acknowledged registrations and 51 grants); and, on SQLite, a refresh
 * rotation that took the presented token out of the store in one transaction and wrote its
 * successor in a later one, so a kill in between left the client with no working token (2 of 4
 * grants lost in the first kill; token-families.ts `rotateRefreshToken`).
 *
 * Each life of `serve` checks everything acknowledged so far, obtains codes through the whole
 * flow (registration, /authorize with PKCE and `resource`, GitHub stand-in login, consent), then
 * runs a burst over HTTP for a random 100-800 ms: registrations, the exchange of those codes and
 * refresh rotations of every grant; SIGKILL lands in the middle of it. An answer that reached the
 * test is acknowledged; a request whose answer never arrived changes nothing in the test's book.
 * SERVE_CRASH_ROUNDS sets the number of kills (3 by default, e.g. 10 locally).
 */
const ROUNDS = Number(process.env['SERVE_CRASH_ROUNDS'] ?? 3);
/** Grants obtained before the first burst; the code exchanges in the bursts add more. */
const INITIAL_GRANTS = 4;
const REGISTRATION_WORKERS = 3;
/** Codes obtained through the whole flow before each burst, exchanged during it. */
const CODES_PER_ROUND = 2;

interface Registration {
  clientId: string;
  accessToken: string;
  uri: string;
}

interface Grant {
  clientId: string;
  /** The newest refresh token whose response reached the test. */
  current: string;
  /** Tokens replaced by an acknowledged rotation, oldest first, with the life of `serve` (0, 1, ...) that replaced them. */
  superseded: Array<{ token: string; life: number }>;
  /** A rotation of `current` was in flight when the gateway died: its successor may have been committed. */
  uncertain: boolean;
}

interface Book {
  registrations: Registration[];
  grants: Grant[];
}

interface Totals {
  registrationsAcknowledged: number;
  registrationsLost: number;
  refreshesAcknowledged: number;
  codeExchangesAcknowledged: number;
  grantsChecked: number;
  grantsLost: number;
  uncertainRotations: number;
  supersededRefused: number;
  throttled: number;
}

let github: GitHubStandIn;
let dir: string;
let gw: HasUrls;
let echo: string;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  github = await startGitHubStandIn();
  dir = await makeTempDir('mcpgw-serve-crash-');
  const publicUrl = `http://127.0.0.1:${await freePort()}`;
  const init = await runCli(githubInitArgs(dir, publicUrl, github.url));
  expect(init.code, init.stderr).toBe(0);
  const add = await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_FIXTURE}"`]);
  expect(add.code, add.stderr).toBe(0);
  // A burst registers hundreds of clients from one address; the default (30 per 10 minutes) would answer 429.
  const configPath = join(dir, 'mcp-gateway.yaml');
  const yaml = await readFile(configPath, 'utf8');
  expect(yaml).toMatch(/registrationsPer10Min: 30\n/);
  await writeFile(configPath, yaml.replace(/registrationsPer10Min: 30\n/, 'registrationsPer10Min: 10000\n'));
  gw = { urls: gatewayUrls(await loadConfig(dir)) };
  echo = gw.urls.resourceFor('echo');
});
afterAll(async () => {
  await serve?.stop('SIGKILL');
  await github?.close();
  if (dir) await removeTempDir(dir);
});

async function startServe(): Promise<ServeProcess> {
  const started = new ServeProcess(['--dir', dir]);
  await started.waitFor(/mcp-gateway is ready/);
  return started;
}

async function register(): Promise<Registration | 'throttled'> {
  const res = await fetch(gw.urls.registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'crash test', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' }),
  });
  if (res.status === 429) return 'throttled';
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 201) throw new Error(`registration answered ${res.status} ${JSON.stringify(body)}`);
  return { clientId: String(body['client_id']), accessToken: String(body['registration_access_token']), uri: String(body['registration_client_uri']) };
}

async function tokenRequest(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(gw.urls.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function refresh(grant: Grant, token = grant.current): Promise<{ status: number; body: Record<string, unknown> }> {
  return tokenRequest({ grant_type: 'refresh_token', refresh_token: token, client_id: grant.clientId });
}

interface PreparedCode {
  clientId: string;
  code: string;
  verifier: string;
}

/** Registration, /authorize with PKCE and `resource`, GitHub stand-in login and consent: a code to exchange. */
async function prepareCode(book: Book): Promise<PreparedCode> {
  const client = await register();
  if (client === 'throttled') throw new Error('registration throttled');
  book.registrations.push(client);
  const pkce = newPkce();
  const result = await loginAndConsent(gw, {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: 'st',
    resource: echo,
  });
  const code = result.redirectedTo?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${result.redirectedTo?.href ?? `${result.page?.status} ${result.page?.body.slice(0, 200)}`}`);
  return { clientId: client.clientId, code, verifier: pkce.verifier };
}

/** The code exchange; its answer reaching the test makes a grant. */
async function exchange(book: Book, prepared: PreparedCode, life: number): Promise<'throttled' | undefined> {
  const token = await tokenRequest({
    grant_type: 'authorization_code',
    code: prepared.code,
    code_verifier: prepared.verifier,
    redirect_uri: CLIENT_REDIRECT,
    client_id: prepared.clientId,
    resource: echo,
  });
  if (token.status === 429) return 'throttled';
  if (token.status !== 200) throw new Error(`life ${life}: a code exchange answered ${token.status} ${JSON.stringify(token.body)}`);
  book.grants.push({ clientId: prepared.clientId, current: String(token.body['refresh_token']), superseded: [], uncertain: false });
  return undefined;
}

/**
 * Registrations, exchanges of the codes prepared for this round and rotations of every grant
 * (one request in flight per grant, as a client refreshes), until SIGKILL lands `killAfterMs`
 * after the start. A request that fails after the kill was not acknowledged; one that fails
 * before it is a failure of the test.
 */
async function burstThenKill(
  running: ServeProcess,
  book: Book,
  life: number,
  codes: PreparedCode[],
  killAfterMs: number,
  totals: Totals,
): Promise<{ registrations: number; refreshes: number }> {
  let killed = false;
  const counts = { registrations: 0, refreshes: 0 };
  const untilKilled = async (step: () => Promise<'stop' | undefined>): Promise<void> => {
    try {
      while (!killed) if ((await step()) === 'stop') return;
    } catch (err) {
      if (!killed) throw err;
    }
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const workers: Array<Promise<void>> = [];
  for (let i = 0; i < REGISTRATION_WORKERS; i++) {
    workers.push(
      untilKilled(async () => {
        const registration = await register();
        if (registration === 'throttled') {
          totals.throttled++;
          return 'stop';
        }
        book.registrations.push(registration);
        counts.registrations++;
        return undefined;
      }),
    );
  }
  for (const grant of [...book.grants]) {
    workers.push(
      untilKilled(async () => {
        grant.uncertain = true;
        const answer = await refresh(grant);
        grant.uncertain = false;
        if (answer.status === 429) {
          // Refused before the handler ran (300 token requests a minute per address): nothing rotated.
          totals.throttled++;
          await pause(100);
          return undefined;
        }
        if (answer.status !== 200) throw new Error(`life ${life}: a refresh answered ${answer.status} ${JSON.stringify(answer.body)}`);
        grant.superseded.push({ token: grant.current, life });
        grant.current = String(answer.body['refresh_token']);
        counts.refreshes++;
        return undefined;
      }),
    );
  }
  const pending = [...codes];
  workers.push(
    untilKilled(async () => {
      const next = pending.shift();
      if (next === undefined) return 'stop';
      if ((await exchange(book, next, life)) === 'throttled') totals.throttled++;
      else totals.codeExchangesAcknowledged++;
      return undefined;
    }),
  );
  // The random moment counts from the first acknowledged registration and refresh: a cold
  // process (first sqlite write, first token signed) may take longer than the shortest delay,
  // and a life that acknowledged nothing would check nothing.
  const started = Date.now();
  while (!(counts.registrations > 0 && counts.refreshes > 0) && Date.now() - started < 10_000) await pause(10);
  const timer = setTimeout(() => {
    killed = true;
    running.kill();
  }, killAfterMs);
  const [exit] = await Promise.all([running.exited, ...workers]);
  clearTimeout(timer);
  expect(exit, `life ${life}: serve ended before the kill:\n${running.stderr}`).toEqual({ code: null, signal: 'SIGKILL' });
  return counts;
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

/**
 * After the restart that began life `killed + 1`: what the book holds must hold, and what it
 * superseded must stay dead. The rotations made here belong to the new life.
 */
async function checkAfterRestart(book: Book, killed: number, totals: Totals): Promise<void> {
  const lostRegistrations: string[] = [];
  await inBatches(book.registrations, 16, async (registration) => {
    // RFC 7592 §2.1: the client configuration endpoint, authorised by the registration access token.
    const res = await fetch(registration.uri, { headers: { authorization: `Bearer ${registration.accessToken}` } });
    await res.arrayBuffer();
    if (res.status !== 200) lostRegistrations.push(`${registration.clientId} (${res.status})`);
  });
  totals.registrationsLost += lostRegistrations.length;
  expect(lostRegistrations, `after kill ${killed}: acknowledged registrations missing`).toEqual([]);

  // The token just before `current` is within the lost-response grace (tokens.refreshReuseGrace,
  // 30 s): presented again it retires `current` and answers, by design. The one before it has no
  // successor left to retire, so it must be refused. Only tokens superseded in the life just
  // killed are tried (seconds ago): one past the grace window would rightly revoke the grant.
  const revived: string[] = [];
  await Promise.all(
    book.grants.map(async (grant) => {
      const older = grant.superseded.at(-2);
      if (older === undefined || older.life !== killed) return;
      const answer = await refresh(grant, older.token);
      if (answer.status === 400 && answer.body['error'] === 'invalid_grant') totals.supersededRefused++;
      else revived.push(`${grant.clientId}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }),
  );
  expect(revived, `after kill ${killed}: a refresh token superseded before an acknowledged rotation worked again`).toEqual([]);

  // Every grant's newest acknowledged token refreshes. One whose rotation was in flight at the
  // kill too: either the rotation never committed, or it did and its answer was lost, which the
  // grace window answers by retiring the successor nobody saw (its value never reached the test,
  // so it cannot be presented; that both old and new work is ruled out by the check above).
  const lostGrants: string[] = [];
  await Promise.all(
    book.grants.map(async (grant) => {
      if (grant.uncertain) totals.uncertainRotations++;
      const answer = await refresh(grant);
      totals.grantsChecked++;
      if (answer.status !== 200) {
        lostGrants.push(`${grant.clientId}${grant.uncertain ? ' (rotation in flight at the kill)' : ''}: ${answer.status} ${JSON.stringify(answer.body)}`);
        return;
      }
      grant.superseded.push({ token: grant.current, life: killed + 1 });
      grant.current = String(answer.body['refresh_token']);
      grant.uncertain = false;
    }),
  );
  totals.grantsLost += lostGrants.length;
  expect(lostGrants, `after kill ${killed}: grants whose newest acknowledged refresh token no longer refreshes`).toEqual([]);
}

describe('mcp-gateway serve under kill -9', () => {
  it(
    `loses no acknowledged registration or grant and revives no superseded refresh token over ${ROUNDS} kills during a burst`,
    async () => {
      const totals: Totals = {
        registrationsAcknowledged: 0,
        registrationsLost: 0,
        refreshesAcknowledged: 0,
        codeExchangesAcknowledged: 0,
        grantsChecked: 0,
        grantsLost: 0,
        uncertainRotations: 0,
        supersededRefused: 0,
        throttled: 0,
      };
      const book: Book = { registrations: [], grants: [] };
      serve = await startServe();
      for (const prepared of await Promise.all(Array.from({ length: INITIAL_GRANTS }, () => prepareCode(book))))
        expect(await exchange(book, prepared, 0)).toBeUndefined();

      // Life `kill` of serve: the checks of the previous kill, codes for the burst, the burst, SIGKILL.
      for (let kill = 0; kill < ROUNDS; kill++) {
        const codes = await Promise.all(Array.from({ length: CODES_PER_ROUND }, () => prepareCode(book)));
        const counts = await burstThenKill(serve, book, kill, codes, 100 + Math.floor(Math.random() * 700), totals);
        expect(counts.registrations, `life ${kill} acknowledged no registration`).toBeGreaterThan(0);
        expect(counts.refreshes, `life ${kill} acknowledged no refresh`).toBeGreaterThan(0);
        totals.refreshesAcknowledged += counts.refreshes;
        serve = await startServe();
        await checkAfterRestart(book, kill, totals);
      }
      totals.registrationsAcknowledged = book.registrations.length;
      console.info(`serve-crash: ${ROUNDS} kills: ${JSON.stringify(totals)}`);
      expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    },
    60_000 + ROUNDS * 15_000,
  );
});
