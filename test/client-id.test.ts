import { describe, expect, it } from 'vitest';
import { newClientId } from '../runtime/auth/clients/client-registry.js';

describe('registered client ids', () => {
  it('never start with "-" (a command line would read one as a flag), and are 24 base64url characters', () => {
    // 1 in 64 random ids starts with "-": 5,000 make missing the rule all but impossible.
    const ids = Array.from({ length: 5_000 }, newClientId);
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{23}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
