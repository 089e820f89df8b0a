import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rendezvousOrder } from '../runtime/router/replicas/rendezvous.js';
import { createReplicaSet, dnsReplicas, replicaAddress, splitReplica } from '../runtime/router/replicas/replica-set.js';
import { createSessionSeal } from '../runtime/router/replicas/session-seal.js';

const session = { owner: '10.0.1.7:8000', sessionId: '0b2b8c6e-6a43-4a38-9d8e-2c1f7d0e5a11' };

describe('sealed session ids (runtime/router/replicas/session-seal.ts)', () => {
  const key = randomBytes(32);
  const seal = createSessionSeal(key);

  it('opens for the same server and user only, and says nothing readable', () => {
    const id = seal.seal(session, 'echo', 'github:1001');
    expect(id).toMatch(/^s1\.[A-Za-z0-9_-]+$/);
    expect(id.length).toBeLessThan(200);
    expect(id).not.toContain('10.0.1.7');
    expect(Buffer.from(id.slice(3), 'base64url').toString('latin1')).not.toContain('0b2b8c6e');
    expect(seal.open(id, 'echo', 'github:1001')).toEqual(session);
    expect(seal.open(id, 'echo', 'github:1002')).toBeUndefined();
    expect(seal.open(id, 'other', 'github:1001')).toBeUndefined();
    // Another router's key (another deployment): not ours.
    expect(createSessionSeal(randomBytes(32)).open(id, 'echo', 'github:1001')).toBeUndefined();
    // The same key opens it on every replica of the router.
    expect(createSessionSeal(new Uint8Array(key)).open(id, 'echo', 'github:1001')).toEqual(session);
  });

  it('is different every time, so ids are neither guessable nor linkable', () => {
    const ids = new Set(Array.from({ length: 50 }, () => seal.seal(session, 'echo', 'u')));
    expect(ids.size).toBe(50);
  });

  it('refuses every tampered, truncated, extended or malformed id', () => {
    const id = seal.seal(session, 'echo', 'u');
    const body = id.slice(3);
    for (let i = 0; i < body.length; i++) {
      const flipped = body[i] === 'A' ? 'B' : 'A';
      expect(seal.open(`s1.${body.slice(0, i)}${flipped}${body.slice(i + 1)}`, 'echo', 'u')).toBeUndefined();
    }
    for (const bad of [
      id.slice(0, -1),
      `${id}A`,
      body,
      `s2.${body}`,
      's1.',
      '',
      `s1.${body}=`,
      `s1.${body} `,
      `s1.${'A'.repeat(100_000)}`,
      's1.\u0000',
      `s1.${body.replace(/./, '+')}`,
    ]) {
      expect(seal.open(bad, 'echo', 'u')).toBeUndefined();
    }
  });

  it('seals only addresses and ids the spec allows', () => {
    expect(() => seal.seal({ owner: 'no-port', sessionId: 'x' }, 'echo', 'u')).toThrow(TypeError);
    expect(() => seal.seal({ owner: '10.0.0.1:80', sessionId: 'has space' }, 'echo', 'u')).toThrow(TypeError);
    expect(() => seal.seal({ owner: '10.0.0.1:80', sessionId: 'é' }, 'echo', 'u')).toThrow(TypeError);
    expect(() => createSessionSeal(randomBytes(16))).toThrow(TypeError);
    const v6 = { owner: '[fd00::5]:8000', sessionId: 'abc' };
    expect(seal.open(seal.seal(v6, 'echo', 'u'), 'echo', 'u')).toEqual(v6);
  });
});

describe('rendezvous order (runtime/router/replicas/rendezvous.ts)', () => {
  const three = ['10.0.0.1:8000', '10.0.0.2:8000', '10.0.0.3:8000'];

  it('gives each user the same first replica whatever the list order, spread over the replicas', () => {
    const firsts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const first = rendezvousOrder(`user-${i}`, three)[0]!;
      expect(rendezvousOrder(`user-${i}`, [...three].reverse())[0]).toBe(first);
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    for (const replica of three) expect(firsts.get(replica)).toBeGreaterThan(800);
  });

  it('moves only the users of a replica that leaves, and only to the new one when one joins', () => {
    const users = Array.from({ length: 2000 }, (_, i) => `u${i}`);
    const before = new Map(users.map((u) => [u, rendezvousOrder(u, three)[0]!]));
    const withoutThird = three.slice(0, 2);
    for (const u of users) if (before.get(u) !== three[2]) expect(rendezvousOrder(u, withoutThird)[0]).toBe(before.get(u));
    const four = [...three, '10.0.0.4:8000'];
    for (const u of users) expect([before.get(u), '10.0.0.4:8000']).toContain(rendezvousOrder(u, four)[0]);
  });
});

describe('replica sets (runtime/router/replicas/replica-set.ts)', () => {
  it('looks the name up at most once per refresh, keeps the last answer when a lookup fails, and again at once after a replica is marked down', async () => {
    let clock = 0;
    let lookups = 0;
    let answer: string[] | Error = ['a:1', 'b:1'];
    const set = createReplicaSet({
      resolve: async () => {
        lookups++;
        if (answer instanceof Error) throw answer;
        return answer;
      },
      refreshMs: 1_000,
      downMs: 3_000,
      now: () => clock,
    });
    await Promise.all([set.current(), set.current(), set.current()]);
    expect(lookups).toBe(1);
    clock = 500;
    expect(await set.current()).toEqual(['a:1', 'b:1']);
    expect(lookups).toBe(1);
    clock = 1_500;
    answer = new Error('SERVFAIL');
    expect(await set.current()).toEqual(['a:1', 'b:1']);
    expect(lookups).toBe(2);
    answer = ['b:1'];
    set.markDown('a:1');
    expect(set.isDown('a:1')).toBe(true);
    expect(await set.current()).toEqual(['b:1']);
    expect(lookups).toBe(3);
    clock = 5_000;
    expect(set.isDown('a:1')).toBe(false);
    set.markDraining('b:1');
    expect(set.takesNewSessions('b:1')).toBe(false);
    expect(set.takesNewSessions('a:1')).toBe(true);
  });

  it('resolves names by DNS, literals as they are, and a name nobody has to no replica', async () => {
    expect(await dnsReplicas(new URL('http://127.0.0.1:8000'))()).toEqual(['127.0.0.1:8000']);
    expect(await dnsReplicas(new URL('http://[::1]:8000'))()).toEqual(['[::1]:8000']);
    expect((await dnsReplicas(new URL('http://localhost:8000'))()).length).toBeGreaterThan(0);
    expect(await dnsReplicas(new URL('http://tasks.bridge-none.invalid:8000'))()).toEqual([]);
    expect(splitReplica(replicaAddress('fd00::1', 8000))).toEqual({ host: 'fd00::1', port: 8000 });
  });
});
