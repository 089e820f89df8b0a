import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateStoredKey } from '../runtime/auth/tokens/signing-keys.js';
import { startAuthRuntimeFromEnv } from '../runtime/entrypoints/auth-runtime.js';
import { silentLogger } from '../runtime/logger.js';
import { makeTempDir, removeTempDir } from './helpers/cli-run.js';

/** The auth container gets the admin token as MCPGW_ADMIN_TOKEN (secrets/auth.env, written by render). */
describe('auth runtime (container) admin API', () => {
  let dir: string;
  let baseEnv: Record<string, string>;
  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-admin-runtime-');
    const config = { version: 1, publicUrl: 'http://127.0.0.1:8080', provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'], servers: {} };
    await writeFile(join(dir, 'mcp-gateway.yaml'), stringify(config));
    baseEnv = {
      MCPGW_CONFIG: join(dir, 'mcp-gateway.yaml'),
      MCPGW_LISTEN: '127.0.0.1:0',
      MCPGW_SIGNING_KEYS: JSON.stringify({ version: 1, keys: [await generateStoredKey()] }),
      MCPGW_STATE_KEY: randomBytes(32).toString('base64url'),
    };
  });
  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  it('serves /admin/* authorised by MCPGW_ADMIN_TOKEN, and none without it', async () => {
    const token = randomBytes(32).toString('base64url');
    const withToken = await startAuthRuntimeFromEnv({ env: { ...baseEnv, MCPGW_ADMIN_TOKEN: token }, logger: silentLogger(), secretsDir: dir });
    try {
      const base = `http://127.0.0.1:${withToken.address.port}`;
      expect((await fetch(`${base}/admin/ping`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${base}/admin/ping`)).status).toBe(401);
    } finally {
      await withToken.close();
    }
    const without = await startAuthRuntimeFromEnv({ env: baseEnv, logger: silentLogger(), secretsDir: dir });
    try {
      expect((await fetch(`http://127.0.0.1:${without.address.port}/admin/ping`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    } finally {
      await without.close();
    }
  });

  it('refuses to start with an MCPGW_ADMIN_TOKEN that is no real token', async () => {
    await expect(startAuthRuntimeFromEnv({ env: { ...baseEnv, MCPGW_ADMIN_TOKEN: 'short' }, logger: silentLogger(), secretsDir: dir })).rejects.toMatchObject({
      code: 'ERR_KEYS_INVALID',
    });
  });
});
