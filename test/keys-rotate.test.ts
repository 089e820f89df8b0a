import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken, verifyAccessToken } from '../runtime/auth/tokens/access-token.js';
import { loadKeySet, rotateKeyFile, writeNewKeyFile } from '../runtime/auth/tokens/signing-keys.js';
import { makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ServeProcess } from './helpers/serve-process.js';

const HOUR = 3_600_000;

describe('rotateKeyFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgw-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('signs with the new key while tokens of the old one still verify, then drops the old key once they expired', async () => {
    const path = join(dir, 'signing-keys.json');
    await writeNewKeyFile(path);
    const before = await loadKeySet(path);
    const claims = { sub: 'alice', login: 'alice', clientId: 'c', audience: 'http://127.0.0.1:1/echo/mcp' };
    const t0 = Date.now();
    const old = await signAccessToken(claims, { keys: before, issuer: 'http://127.0.0.1:1', ttlMs: HOUR, now: t0 });

    const first = await rotateKeyFile(path, { now: new Date(t0), retireAfterMs: HOUR });
    expect(first.verifying.map((k) => k.kid)).toEqual([before.current.kid]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const after = await loadKeySet(path);
    expect(after.current.kid).toBe(first.newKid);
    expect(after.jwks.keys.map((k) => k.kid)).toEqual([first.newKid, before.current.kid]);
    await expect(verifyAccessToken(old.token, { keys: after, issuer: 'http://127.0.0.1:1', audience: claims.audience, now: t0 })).resolves.toMatchObject({
      login: 'alice',
    });

    const second = await rotateKeyFile(path, { now: new Date(t0 + 2 * HOUR), retireAfterMs: HOUR });
    expect(second.removed).toEqual([before.current.kid]);
    expect(second.verifying.map((k) => k.kid)).toEqual([first.newKid]);
  });
});

describe('mcp-gateway keys rotate with a running serve', () => {
  let dir: string;
  let serve: ServeProcess;
  let url: string;
  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-rotate-');
    url = `http://127.0.0.1:${await freePort()}`;
    expect((await runCli(['init', '--dir', dir, '--yes', '--provider', 'local', '--public-url', url, '--allowed-users', 'alice'])).code).toBe(0);
    expect((await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" test/fixtures/echo-mcp-server.mjs`])).code).toBe(0);
    serve = new ServeProcess(['--dir', dir]);
    await serve.waitFor(/mcp-gateway is ready/);
  });
  afterAll(async () => {
    await serve?.stop();
    await removeTempDir(dir);
  });

  const issue = async (): Promise<string> =>
    (await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'echo'])).stdout.trim().split('\n').at(-1)!;
  const status = async (token: string): Promise<number> =>
    (
      await fetch(`${url}/echo/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      })
    ).status;

  it('accepts tokens of the new key without a restart and keeps accepting the old ones', async () => {
    const old = await issue();
    const rotated = await runCli(['keys', 'rotate', '--dir', dir, '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const result = JSON.parse(rotated.stdout) as { newKid: string };
    const fresh = await issue();
    expect(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid).toBe(result.newKid);
    // Both are refused only for lacking a session (400), never as unauthenticated (401).
    expect(await status(fresh)).not.toBe(401);
    expect(await status(old)).not.toBe(401);
    const jwks = (await (await fetch(`${url}/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toContain(result.newKid);
  });

  it('reloads the keys on SIGHUP', async () => {
    await runCli(['keys', 'rotate', '--dir', dir]);
    const mark = serve.stdout.length;
    serve.child.kill('SIGHUP');
    await serve.waitFor(/SIGHUP: signing keys (reloaded|unchanged)/, { from: mark });
    expect(serve.stdout.slice(mark)).toContain('SIGHUP: signing keys reloaded');
  });
});
