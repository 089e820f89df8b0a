import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UpstreamPost } from '../runtime/auth/upstream-oauth/token-endpoint-post.js';
import { grantKey } from '../runtime/auth/upstream-oauth/upstream-grant-record.js';
import {
  createUpstreamTokenVault,
  type UpstreamGrantClient,
  type UpstreamTokenVault,
  type UpstreamTokenVaultOptions,
} from '../runtime/auth/upstream-oauth/upstream-token-vault.js';
import { createSealedBox, type SealedBox } from '../runtime/auth/sealed-box.js';
import { createLogger } from '../runtime/logger.js';
import type { Store } from '../runtime/store/store.js';
import { freePort } from './helpers/free-port.js';
import { startRedis } from './helpers/redis-server.js';
import { startTokenStandIn, type TokenStandIn, type TokenStandInOptions } from './upstream-vault/token-endpoint-stand-in.js';
import { redisVaultStore, sqliteVaultStore, testClock, type TestClock, type VaultStore } from './upstream-vault/vault-stores.js';

const redis = await startRedis();
if ('skip' in redis) console.warn(`skipping the upstream token vault tests on Redis: ${redis.skip}`);
afterAll(async () => {
  if ('stop' in redis) await redis.stop();
});

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mcpgw-vault-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The vault's HTTP seam over plain fetch (the gateway passes its SSRF-guarded client here). */
const fetchPost: UpstreamPost = async (url, init) => {
  const res = await fetch(url, { ...init, redirect: 'manual' });
  return { status: res.status, json: () => res.json() };
};

const RESOURCE = new URL('https://mcp.example.com/mcp');
const SERVER = 'notes';
const ALICE = 'github:1001';
const BOB = 'github:1002';
/** The stand-in's tokens live 120 s; the vault refreshes 60 s before expiry. */
const PAST_EXPIRY_MS = 121_000;

function clientOf(idp: TokenStandIn, overrides: Partial<UpstreamGrantClient> = {}): UpstreamGrantClient {
  return {
    issuer: idp.issuer,
    tokenEndpoint: idp.tokenEndpoint,
    revocationEndpoint: idp.revocationEndpoint,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    resource: RESOURCE,
    ...overrides,
  };
}

const STORES: Array<[string, ((clock: TestClock) => Promise<VaultStore>) | undefined]> = [
  ['the embedded store (SQLite)', (clock) => sqliteVaultStore(tmp, clock)],
  ['Redis', 'skip' in redis ? undefined : () => redisVaultStore(redis.url)],
];

for (const [storeName, openStore] of STORES) {
  (openStore ? describe : describe.skip)(`upstream token vault on ${storeName}`, () => {
    let clock: TestClock;
    let vs: VaultStore;
    let box: SealedBox;
    let idp: TokenStandIn;
    let logLines: string[];
    const standIns: TokenStandIn[] = [];

    async function standIn(options: TokenStandInOptions = {}): Promise<TokenStandIn> {
      const started = await startTokenStandIn(options);
      standIns.push(started);
      return started;
    }

    function vault(options: Partial<UpstreamTokenVaultOptions> = {}, store: Store = vs.store): UpstreamTokenVault {
      const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
      return createUpstreamTokenVault({ store, sealedBox: box, post: fetchPost, logger, now: clock.now, lockPollMs: 20, ...options });
    }

    beforeEach(async () => {
      clock = testClock();
      vs = await openStore!(clock);
      box = createSealedBox(randomBytes(32));
      logLines = [];
      idp = await standIn();
    });

    afterEach(async () => {
      // Whatever a test did, no token or client secret reached a log line.
      const log = logLines.join('');
      for (const { issuedTokens, clientSecret } of standIns) {
        for (const secret of [...issuedTokens, ...(clientSecret === undefined ? [] : [clientSecret])]) expect(log).not.toContain(secret);
      }
      for (const started of standIns.splice(0)) await started.close();
      await vs.close();
    });

    describe('single flight', () => {
      it('twenty concurrent calls with an expired token cause one refresh, and all get the new token', async () => {
        const v = vault();
        const first = idp.issue();
        await v.save(ALICE, SERVER, first, clientOf(idp));
        clock.advance(PAST_EXPIRY_MS);
        const tokens = await Promise.all(Array.from({ length: 20 }, () => v.accessToken(ALICE, SERVER)));
        expect(idp.refreshRequests).toHaveLength(1);
        expect(new Set(tokens).size).toBe(1);
        expect(tokens[0]).not.toBe(first['access_token']);
        expect(idp.acceptsAccessToken(tokens[0]!)).toBe(true);
      });

      it('two vaults sharing the store (two gateway processes) refresh once between them', async () => {
        const a = vault();
        const b = vault({}, await vs.secondHandle());
        await a.save(ALICE, SERVER, idp.issue(), clientOf(idp));
        clock.advance(PAST_EXPIRY_MS);
        const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).accessToken(ALICE, SERVER)));
        expect(idp.refreshRequests).toHaveLength(1);
        expect(new Set(tokens).size).toBe(1);
        expect(idp.acceptsAccessToken(tokens[0]!)).toBe(true);
      });

      it('markRejected from many callers refreshes once, and a stale rejection gets the current token', async () => {
        const v = vault();
        const first = idp.issue();
        await v.save(ALICE, SERVER, first, clientOf(idp));
        const refused = first['access_token'] as string;
        const tokens = await Promise.all(Array.from({ length: 5 }, () => v.markRejected(ALICE, SERVER, refused)));
        expect(idp.refreshRequests).toHaveLength(1);
        expect(new Set(tokens).size).toBe(1);
        expect(tokens[0]).not.toBe(refused);
        await expect(v.markRejected(ALICE, SERVER, refused)).resolves.toBe(tokens[0]);
        expect(idp.refreshRequests).toHaveLength(1);
      });
    });

    describe('refresh', () => {
      it('hands out a token far from expiry without refreshing, and refreshes one within the skew', async () => {
        const v = vault();
        const first = idp.issue();
        await v.save(ALICE, SERVER, first, clientOf(idp));
        await expect(v.accessToken(ALICE, SERVER)).resolves.toBe(first['access_token']);
        expect(idp.refreshRequests).toHaveLength(0);
        clock.advance(61_000); // expires in 59 s: inside the 60 s skew
        await expect(v.accessToken(ALICE, SERVER)).resolves.not.toBe(first['access_token']);
        expect(idp.refreshRequests).toHaveLength(1);
      });

      it('sends grant_type, refresh_token, client_id and the resource (RFC 8707) for a public client', async () => {
        const v = vault();
        const first = idp.issue();
        await v.save(ALICE, SERVER, first, clientOf(idp));
        clock.advance(PAST_EXPIRY_MS);
        await v.accessToken(ALICE, SERVER);
        const [{ form, authorization }] = idp.refreshRequests as [(typeof idp.refreshRequests)[number]];
        expect(Object.fromEntries(form)).toEqual({
          grant_type: 'refresh_token',
          refresh_token: first['refresh_token'],
          resource: RESOURCE.href,
          client_id: idp.clientId,
        });
        expect(authorization).toBeUndefined();
      });

      it('authenticates a confidential client with client_secret_basic', async () => {
        const confidential = await standIn({ clientSecret: `secret-${randomBytes(12).toString('hex')}` });
        const v = vault();
        await v.save(ALICE, SERVER, confidential.issue(), clientOf(confidential));
        clock.advance(PAST_EXPIRY_MS);
        const token = await v.accessToken(ALICE, SERVER);
        expect(confidential.acceptsAccessToken(token)).toBe(true);
        const [{ form, authorization }] = confidential.refreshRequests as [(typeof confidential.refreshRequests)[number]];
        expect(authorization).toMatch(/^Basic /);
        expect(form.has('client_id')).toBe(false);
      });

      it('keeps a rotated refresh token, whose predecessor the upstream then refuses', async () => {
        const v = vault();
        const first = idp.issue();
        await v.save(ALICE, SERVER, first, clientOf(idp));
        clock.advance(PAST_EXPIRY_MS);
        const second = await v.accessToken(ALICE, SERVER);
        clock.advance(PAST_EXPIRY_MS);
        const third = await v.accessToken(ALICE, SERVER);
        expect(third).not.toBe(second);
        expect(idp.acceptsAccessToken(third)).toBe(true);
        const presented = idp.refreshRequests.map(({ form }) => form.get('refresh_token'));
        expect(presented[0]).toBe(first['refresh_token']);
        expect(presented[1]).not.toBe(first['refresh_token']);
        expect(idp.acceptsRefreshToken(first['refresh_token'] as string)).toBe(false);
        const replay = await idp.refreshDirectly(first['refresh_token'] as string);
        expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      });

      it('keeps the old refresh token when the response brings none', async () => {
        const steady = await standIn({ rotate: false });
        const v = vault();
        const first = steady.issue();
        await v.save(ALICE, SERVER, first, clientOf(steady));
        for (let i = 0; i < 2; i++) {
          clock.advance(PAST_EXPIRY_MS);
          await v.accessToken(ALICE, SERVER);
        }
        expect(steady.refreshRequests.map(({ form }) => form.get('refresh_token'))).toEqual([first['refresh_token'], first['refresh_token']]);
        expect((await v.list(ALICE))[0]?.refreshable).toBe(true);
      });
    });

    describe('when the upstream refuses or fails', () => {
      it('invalid_grant deletes the grant and tells the user to reconnect, once for all callers', async () => {
        const v = vault();
        const first = idp.issue();
        await v.save(ALICE, SERVER, first, clientOf(idp));
        idp.behaviour = 'invalid_grant';
        clock.advance(PAST_EXPIRY_MS);
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => v.accessToken(ALICE, SERVER)));
        expect(idp.refreshRequests).toHaveLength(1);
        for (const result of results) {
          expect(result.status).toBe('rejected');
          const err = (result as PromiseRejectedResult).reason;
          expect(err).toMatchObject({ code: 'ERR_UPSTREAM_REAUTH_REQUIRED' });
          expect(`${err.message} ${err.hint}`).toContain(SERVER);
          // The stand-in echoes the refresh token in error_description; the vault does not pass it on.
          expect(err.message).not.toContain(first['refresh_token']);
        }
        expect(await vs.store.get(grantKey(ALICE, SERVER))).toBeUndefined();
        expect(await v.list(ALICE)).toEqual([]);
        await expect(v.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_NOT_CONNECTED' });
      });

      it('a 500 keeps the grant, backs off without asking again, and a later call succeeds', async () => {
        const v = vault({ backoffMs: 5_000 });
        await v.save(ALICE, SERVER, idp.issue(), clientOf(idp));
        idp.behaviour = 'server_error';
        clock.advance(PAST_EXPIRY_MS);
        await expect(v.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_UNREACHABLE' });
        await expect(v.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_UNREACHABLE' });
        expect(idp.refreshRequests).toHaveLength(1);
        expect(await v.list(ALICE)).toHaveLength(1);
        idp.behaviour = 'ok';
        clock.advance(5_001);
        const token = await v.accessToken(ALICE, SERVER);
        expect(idp.acceptsAccessToken(token)).toBe(true);
        expect(idp.refreshRequests).toHaveLength(2);
      });

      it('the backoff holds for another process sharing the store', async () => {
        const a = vault({ backoffMs: 5_000 });
        const b = vault({ backoffMs: 5_000 }, await vs.secondHandle());
        await a.save(ALICE, SERVER, idp.issue(), clientOf(idp));
        idp.behaviour = 'server_error';
        clock.advance(PAST_EXPIRY_MS);
        await expect(a.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_UNREACHABLE' });
        await expect(b.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_UNREACHABLE' });
        expect(idp.refreshRequests).toHaveLength(1);
      });

      it('a failed refresh of a token that is still valid hands out the current token', async () => {
        const v = vault();
        const first = idp.issue();
        await v.save(ALICE, SERVER, first, clientOf(idp));
        idp.behaviour = 'server_error';
        clock.advance(61_000);
        await expect(v.accessToken(ALICE, SERVER)).resolves.toBe(first['access_token']);
        await expect(v.accessToken(ALICE, SERVER)).resolves.toBe(first['access_token']);
        expect(idp.refreshRequests).toHaveLength(1);
      });

      it('an unreachable token endpoint keeps the grant', async () => {
        const v = vault();
        const closed = new URL(`http://127.0.0.1:${await freePort()}/token`);
        await v.save(ALICE, SERVER, idp.issue(), clientOf(idp, { tokenEndpoint: closed }));
        clock.advance(PAST_EXPIRY_MS);
        await expect(v.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_UNREACHABLE' });
        expect(await v.list(ALICE)).toHaveLength(1);
      });

      it('an expired token without a refresh token, or a refused one, ends the grant', async () => {
        const v = vault();
        const { refresh_token: _dropped, ...withoutRefresh } = idp.issue();
        await v.save(ALICE, SERVER, withoutRefresh, clientOf(idp));
        await v.save(BOB, SERVER, { ...withoutRefresh }, clientOf(idp));
        await expect(v.markRejected(BOB, SERVER, withoutRefresh['access_token'] as string)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_REAUTH_REQUIRED' });
        clock.advance(PAST_EXPIRY_MS);
        await expect(v.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_REAUTH_REQUIRED' });
        expect(await v.list()).toEqual([]);
        expect(idp.refreshRequests).toHaveLength(0);
      });
    });

    describe('sealing', () => {
      it("a value moved to another user's or another server's key does not open", async () => {
        const v = vault();
        const alices = idp.issue();
        await v.save(ALICE, SERVER, alices, clientOf(idp));
        await v.save(BOB, SERVER, idp.issue(), clientOf(idp));
        const stolen = await vs.store.get(grantKey(ALICE, SERVER));
        await vs.store.set(grantKey(BOB, SERVER), stolen);
        await vs.store.set(grantKey(ALICE, 'other'), stolen);
        await expect(v.accessToken(BOB, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_REAUTH_REQUIRED' });
        await expect(v.accessToken(ALICE, 'other')).rejects.toMatchObject({ code: 'ERR_UPSTREAM_REAUTH_REQUIRED' });
        await expect(v.accessToken(ALICE, SERVER)).resolves.toBe(alices['access_token']);
        expect(logLines.join('')).toContain('upstream_grant_unreadable');
      });

      it('the raw store holds no token, client secret, client id, endpoint or resource', async () => {
        const confidential = await standIn({ clientSecret: `secret-${randomBytes(12).toString('hex')}` });
        const v = vault();
        await v.save(ALICE, SERVER, confidential.issue(), clientOf(confidential));
        clock.advance(PAST_EXPIRY_MS);
        await v.accessToken(ALICE, SERVER);
        const raw = await vs.rawContents();
        expect(raw).toContain(confidential.issuer); // the scan sees the store's contents
        for (const secret of [
          ...confidential.issuedTokens,
          confidential.clientSecret!,
          confidential.clientId,
          confidential.tokenEndpoint.href,
          confidential.revocationEndpoint.href,
          RESOURCE.href,
        ]) {
          expect(raw).not.toContain(secret);
        }
      });
    });

    describe('revoke and list', () => {
      it('revoke revokes the refresh token first at the upstream (RFC 7009), then deletes the grant', async () => {
        const v = vault();
        const first = idp.issue();
        await v.save(ALICE, SERVER, first, clientOf(idp));
        await expect(v.revoke(ALICE, SERVER)).resolves.toEqual({ removed: true, upstream: 'revoked', failures: [] });
        expect(idp.revocations).toEqual([
          { token: first['refresh_token'], hint: 'refresh_token' },
          { token: first['access_token'], hint: 'access_token' },
        ]);
        expect(idp.acceptsRefreshToken(first['refresh_token'] as string)).toBe(false);
        await expect(v.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_NOT_CONNECTED' });
        await expect(v.revoke(ALICE, SERVER)).resolves.toEqual({ removed: false, upstream: 'skipped', failures: [] });
      });

      it('a failing revocation endpoint still deletes the grant, and the result says so', async () => {
        const v = vault();
        await v.save(ALICE, SERVER, idp.issue(), clientOf(idp));
        idp.revocationBehaviour = 'error';
        const result = await v.revoke(ALICE, SERVER);
        expect(result).toMatchObject({ removed: true, upstream: 'failed' });
        expect(result.failures).toHaveLength(2);
        expect(await v.list()).toEqual([]);
      });

      it('without a revocation endpoint the grant is only forgotten', async () => {
        const v = vault();
        await v.save(ALICE, SERVER, idp.issue(), clientOf(idp, { revocationEndpoint: undefined }));
        await expect(v.revoke(ALICE, SERVER)).resolves.toEqual({ removed: true, upstream: 'no-endpoint', failures: [] });
        expect(idp.revocations).toEqual([]);
      });

      it("list shows a user's grants, or everyone's, without token values", async () => {
        const v = vault();
        await v.save(ALICE, 'b-server', idp.issue(), clientOf(idp));
        await v.save(ALICE, 'a-server', idp.issue(), clientOf(idp));
        await v.save(BOB, 'a-server', idp.issue(), clientOf(idp));
        const alices = await v.list(ALICE);
        expect(alices.map((g) => g.server)).toEqual(['a-server', 'b-server']);
        expect(alices[0]).toMatchObject({ user: ALICE, issuer: idp.issuer, scope: 'tools:read', refreshable: true });
        const everyone = await v.list();
        expect(everyone.map((g) => `${g.user}/${g.server}`)).toEqual([`${ALICE}/a-server`, `${ALICE}/b-server`, `${BOB}/a-server`]);
        const shown = JSON.stringify([alices, everyone]);
        for (const token of idp.issuedTokens) expect(shown).not.toContain(token);
      });
    });

    describe('logging', () => {
      it('logs what happened to grants, never a token', async () => {
        const v = vault();
        await v.save(ALICE, SERVER, idp.issue(), clientOf(idp));
        clock.advance(PAST_EXPIRY_MS);
        await v.accessToken(ALICE, SERVER);
        idp.behaviour = 'invalid_grant';
        clock.advance(PAST_EXPIRY_MS);
        await expect(v.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_REAUTH_REQUIRED' });
        const events = logLines.map((line) => (JSON.parse(line) as { event?: string }).event);
        expect(events).toEqual(['upstream_grant_saved', 'upstream_token_refreshed', 'upstream_grant_rejected']);
        const log = logLines.join('');
        for (const token of idp.issuedTokens) expect(log).not.toContain(token);
      });
    });

    describe('hostile token responses', () => {
      const huge = 'a'.repeat(1_000_000);
      const cases: Array<[string, unknown]> = [
        ['null', null],
        ['an array', [{ token_type: 'Bearer', access_token: 'at-x' }]],
        ['a string', 'access_token=at-x'],
        ['no access_token', { token_type: 'Bearer', expires_in: 60 }],
        ['an empty access_token', { token_type: 'Bearer', access_token: '' }],
        ['a numeric access_token', { token_type: 'Bearer', access_token: 12345 }],
        ['a huge access_token', { token_type: 'Bearer', access_token: huge }],
        ['an access_token with CR/LF', { token_type: 'Bearer', access_token: 'at-x\r\nX-Injected: 1' }],
        ['token_type mac', { token_type: 'mac', access_token: 'at-x' }],
        ['no token_type', { access_token: 'at-x' }],
        ['expires_in as a string', { token_type: 'Bearer', access_token: 'at-x', expires_in: '3600' }],
        ['a negative expires_in', { token_type: 'Bearer', access_token: 'at-x', expires_in: -1 }],
        ['a numeric refresh_token', { token_type: 'Bearer', access_token: 'at-x', refresh_token: 42 }],
        ['a huge refresh_token', { token_type: 'Bearer', access_token: 'at-x', refresh_token: huge }],
        ['a scope that is not a string', { token_type: 'Bearer', access_token: 'at-x', scope: ['a'] }],
      ];

      it.each(cases)('save refuses %s and stores nothing', async (_name, response) => {
        const v = vault();
        await expect(v.save(ALICE, SERVER, response, clientOf(idp))).rejects.toMatchObject({ code: 'ERR_UPSTREAM_BAD_RESPONSE' });
        expect(await vs.store.get(grantKey(ALICE, SERVER))).toBeUndefined();
        expect(await v.list()).toEqual([]);
      });

      it('accepts token_type in any case', async () => {
        const v = vault();
        await expect(v.save(ALICE, SERVER, { ...idp.issue(), token_type: 'BEARER' }, clientOf(idp))).resolves.toMatchObject({ server: SERVER });
      });

      it.each([
        ['token_type mac', JSON.stringify({ token_type: 'mac', access_token: 'at-x' })],
        ['a huge access_token', JSON.stringify({ token_type: 'Bearer', access_token: huge })],
        ['a body that is not JSON', '<html>maintenance</html>'],
      ])('a refresh answered with %s is refused and the grant kept', async (_name, body) => {
        const v = vault({ backoffMs: 1_000 });
        const first = idp.issue();
        await v.save(ALICE, SERVER, first, clientOf(idp));
        idp.override = { status: 200, body };
        clock.advance(PAST_EXPIRY_MS);
        await expect(v.accessToken(ALICE, SERVER)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_BAD_RESPONSE' });
        expect(await v.list(ALICE)).toHaveLength(1);
        idp.override = undefined;
        clock.advance(1_001);
        await expect(v.accessToken(ALICE, SERVER)).resolves.not.toBe(first['access_token']);
      });
    });
  });
}
