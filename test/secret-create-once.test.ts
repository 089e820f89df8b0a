import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateAdminToken } from '../runtime/config/admin-token.js';
import { createSecretOnce } from '../runtime/config/secrets.js';
import { loadOrCreateStateKey } from '../runtime/config/state-key.js';

const dir = mkdtempSync(join(tmpdir(), 'mcpgw-secret-once-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secrets made on first start', () => {
  it('creates a secret once: the second writer is told, the first value stays, 0600, no temporary file left', async () => {
    const path = join(dir, 'one', 'secret');
    expect(await createSecretOnce(path, 'first\n')).toBe(true);
    expect(await createSecretOnce(path, 'second\n')).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'one'))).toEqual(['secret']);
  });

  it('gives every one of many concurrent starters the same state key and admin token', async () => {
    const keys = await Promise.all(Array.from({ length: 12 }, () => loadOrCreateStateKey(join(dir, 'state-key'))));
    expect(new Set(keys.map((key) => Buffer.from(key).toString('hex'))).size).toBe(1);
    const tokens = await Promise.all(Array.from({ length: 12 }, () => loadOrCreateAdminToken(join(dir, 'admin-token'))));
    expect(new Set(tokens).size).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['admin-token', 'one', 'state-key']);
  });
});
