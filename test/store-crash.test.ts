import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../runtime/store/sqlite-store.js';

/*
 * The bug this pins: the JSON-file store acknowledged writes before they reached disk, and a
 * kill -9 lost registrations and rotated refresh tokens acknowledged up to 643 ms earlier. Here a
 * child writes through the SQLite store and acknowledges each write after its promise resolved;
 * SIGKILL lands at a random moment; the reopened database must hold everything acknowledged, and
 * no refresh token that was superseded before an acknowledgement may be valid again.
 * STORE_CRASH_ROUNDS sets the number of kills (3 by default, e.g. 20 locally).
 */
const WRITER = fileURLToPath(new URL('./fixtures/store-crash-writer.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/runtime/store/sqlite-store.js', import.meta.url));
const ROUNDS = Number(process.env['STORE_CRASH_ROUNDS'] ?? 3);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mcpgw-crash-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Acknowledged {
  clients: string[];
  /** Family -> last acknowledged generation. */
  generations: Map<string, number>;
}

/** Runs the writer until `killAfterMs` past its first write, kills it with SIGKILL, and returns what it acknowledged. */
async function writeThenKill(path: string, round: number, killAfterMs: number): Promise<Acknowledged> {
  const child = spawn(process.execPath, [WRITER, path, String(round)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acknowledged: Acknowledged = { clients: [], generations: new Map() };
  let buffered = '';
  let timer: NodeJS.Timeout | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const [kind, key, generation] = line.split(' ');
      if (kind === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      else if (kind === 'client') acknowledged.clients.push(key!);
      else if (kind === 'family') acknowledged.generations.set(key!, Number(generation));
    }
  });
  // 'close': every line the child wrote before it died has been read.
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (c, s) => resolve({ code: c, signal: s })),
  );
  clearTimeout(timer);
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
  return acknowledged;
}

describe('sqlite store under kill -9', () => {
  it.skipIf(!existsSync(BUILT))(
    `loses no acknowledged write and revives no superseded refresh token over ${ROUNDS} kills at random moments`,
    async () => {
      const path = join(tmp, randomUUID(), 'store.sqlite');
      const all: Acknowledged = { clients: [], generations: new Map() };
      for (let round = 0; round < ROUNDS; round++) {
        const acknowledged = await writeThenKill(path, round, 50 + Math.floor(Math.random() * 450));
        expect(acknowledged.clients.length, `round ${round} acknowledged no registration`).toBeGreaterThan(0);
        all.clients.push(...acknowledged.clients);
        for (const [family, generation] of acknowledged.generations) all.generations.set(family, generation);

        const store = await createSqliteStore({ path });
        try {
          const present = new Set(await store.keys('client:'));
          const lost = all.clients.filter((key) => !present.has(key));
          expect(lost, `round ${round}: acknowledged registrations missing after the kill`).toEqual([]);
          for (const [family, acked] of all.generations) {
            const current = await store.get<{ generation: number }>(`family:${family}`);
            // The write after the last acknowledged one may have committed before the kill, never an older one.
            expect(current?.generation, `family ${family}`).toBeGreaterThanOrEqual(acked);
            expect(await store.get(`refresh:${family}:${acked - 1}`), `superseded token of family ${family}`).toBeUndefined();
            expect(await store.get(`refresh:${family}:${current!.generation}`)).toEqual({ family, generation: current!.generation });
          }
        } finally {
          await store.close();
        }
      }
    },
    60_000 + ROUNDS * 5_000,
  );

  it.skipIf(!existsSync(BUILT))('reads the second of two acknowledged values of a key after the kill, never the first', async () => {
    const path = join(tmp, randomUUID(), 'store.sqlite');
    // A child that writes v1, acknowledges, writes v2, acknowledges, and then waits to be killed.
    const script = `
      const { createSqliteStore } = await import(${JSON.stringify(BUILT)});
      const store = await createSqliteStore({ path: ${JSON.stringify(path)} });
      await store.set('refresh:family', { token: 'v1' });
      process.stdout.write('v1\\n');
      await store.set('refresh:family', { token: 'v2' });
      process.stdout.write('v2\\n');
      setInterval(() => {}, 1_000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('v2\n')) resolve();
      });
      child.on('close', () => reject(new Error(`writer exited early: ${output}`)));
    });
    const closed = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGKILL');
    await closed;
    const store = await createSqliteStore({ path });
    try {
      expect(await store.get('refresh:family')).toEqual({ token: 'v2' });
    } finally {
      await store.close();
    }
  });
});
