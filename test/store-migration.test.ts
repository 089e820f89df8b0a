import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPaths, type ProjectPaths } from '../runtime/config/project-paths.js';
import { createLogger } from '../runtime/logger.js';
import { createStore } from '../runtime/store/create-store.js';

/*
 * test/fixtures/state-v1.json was written by the JSON-file embedded store of the release before
 * the SQLite one (runtime/store/embedded-store.ts with a path, clock fixed at 2025-01-01T00:00Z):
 * eleven entries, one of them a code that expires a minute later.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/state-v1.json', import.meta.url));
const WRITTEN_AT = Date.parse('2025-01-01T00:00:00Z');
const now = (): number => WRITTEN_AT + 2 * 60_000;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mcpgw-migrate-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function projectWithLegacyState(name = 'state.json'): Promise<ProjectPaths> {
  const paths = projectPaths(join(tmp, randomUUID()));
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  await copyFile(FIXTURE, join(paths.stateDir, name));
  return paths;
}

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }) };
}

const open = (paths: ProjectPaths, logger = capturingLogger().logger, path = '.mcp-gateway/store.sqlite') =>
  createStore({ type: 'embedded', path }, paths, { logger, now });

describe('import of a state.json of the JSON-file store', () => {
  it('imports every live entry on first start in one go, says so in one line, and keeps the old file as a backup', async () => {
    const paths = await projectWithLegacyState();
    const { logger, lines } = capturingLogger();
    const store = await open(paths, logger);
    try {
      expect(await store.get('client:c-cursor')).toMatchObject({
        clientName: 'Cursor ✓ ünïcode',
        redirectUris: ['cursor://anysphere.cursor-retrieval/oauth/callback'],
      });
      expect(await store.get('refresh:hash-current')).toEqual({ familyId: 'f1', generation: 2 });
      expect(await store.get('null-value')).toBeNull();
      expect((await store.setMembers('user-families:github:1001')).sort()).toEqual(['f1', 'f2']);
      expect(await store.get('code:short-lived')).toBeUndefined(); // expired a minute after it was written
      expect((await store.keys('')).length).toBe(10);
    } finally {
      await store.close();
    }
    const migrated = lines.filter((line) => line['event'] === 'store_migrated');
    expect(migrated).toHaveLength(1);
    expect(migrated[0]).toMatchObject({
      entries: 10,
      msg: expect.stringMatching(
        /^imported 10 entries from state\.json into .*store\.sqlite; the old file is kept as state\.json\.migrated-2025-01-01T00-02-00-000Z$/,
      ),
    });
    expect((await readdir(paths.stateDir)).sort()).toEqual(['state.json.migrated-2025-01-01T00-02-00-000Z', 'store.sqlite']);
  });

  it('keeps TTLs of imported entries: a client registered for 30 days expires on its original date', async () => {
    const paths = await projectWithLegacyState();
    await (await open(paths)).close();
    const later = WRITTEN_AT + 30 * 86_400_000;
    const store = await createStore({ type: 'embedded', path: '.mcp-gateway/store.sqlite' }, paths, { logger: capturingLogger().logger, now: () => later });
    try {
      expect(await store.get('client:c-claude')).toBeUndefined();
      expect(await store.get('client:c-cursor')).toBeDefined(); // no TTL
    } finally {
      await store.close();
    }
  });

  it('imports only once: a state.json put back after the import (or left by a crash before the rename) is renamed, not imported again', async () => {
    const paths = await projectWithLegacyState();
    const first = await open(paths);
    await first.delete('client:c-cursor'); // a change made after the import
    await first.close();
    const [backup] = (await readdir(paths.stateDir)).filter((name) => name.startsWith('state.json.migrated-'));
    await rename(join(paths.stateDir, backup!), join(paths.stateDir, 'state.json'));

    const { logger, lines } = capturingLogger();
    const second = await open(paths, logger);
    try {
      expect(await second.get('client:c-cursor')).toBeUndefined();
    } finally {
      await second.close();
    }
    expect(lines.filter((line) => line['event'] === 'store_migrated').map((line) => line['msg'])).toEqual([
      expect.stringMatching(/imported into .* before; renamed it/),
    ]);
    expect(await readdir(paths.stateDir)).not.toContain('state.json');
  });

  it('reads a configured path ending in .json as the old file and puts the database beside it', async () => {
    const paths = await projectWithLegacyState('custom.json');
    const store = await open(paths, undefined, '.mcp-gateway/custom.json');
    try {
      expect(await store.get('refresh:hash-current')).toEqual({ familyId: 'f1', generation: 2 });
    } finally {
      await store.close();
    }
    expect((await readdir(paths.stateDir)).sort()).toEqual(['custom.json.migrated-2025-01-01T00-02-00-000Z', 'custom.sqlite']);
  });

  it('does not import while a gateway of the earlier release still holds state.json.lock', async () => {
    const paths = await projectWithLegacyState();
    await writeFile(join(paths.stateDir, 'state.json.lock'), JSON.stringify({ pid: process.pid }), { mode: 0o600 });
    await expect(open(paths)).rejects.toMatchObject({ code: 'ERR_STORE_LOCKED', hint: expect.stringMatching(/stop that process/) });
    expect(await readdir(paths.stateDir)).toContain('state.json');
  });

  it.each([
    ['is not JSON', '{"version":1,"entries":{'],
    ['has another format version', '{"version":99,"entries":{}}'],
    ['holds a malformed entry', '{"version":1,"entries":{"k":{"type":"set","members":[1]}}}'],
  ])('refuses a state.json that %s with ERR_STORE_CORRUPT, importing nothing', async (_, content) => {
    const paths = await projectWithLegacyState();
    await writeFile(join(paths.stateDir, 'state.json'), content, { mode: 0o600 });
    await expect(open(paths)).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
    expect(await readdir(paths.stateDir)).toContain('state.json');
  });
});
