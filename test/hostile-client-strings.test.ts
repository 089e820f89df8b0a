import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentProblem, parseCimdDocument } from '../runtime/auth/clients/cimd/cimd-document.js';
import type { GatewayHarness } from './helpers/gateway-harness.js';
import { expectHealthy, startHostileHarness } from './helpers/hostile.js';
import { CLIENT_REDIRECT, registerClient } from './helpers/oauth-flow.js';

/**
 * Strings a client chooses and a person reads (consent page, login page, the operator's terminal,
 * `clients list`) refuse what disguises them, not only control characters (runtime/auth/clients/display-text.ts):
 * "Claude\u202Egpj.exe" reads as something else, a zero-width space makes two names that look
 * identical differ, U+2028 breaks a terminal line.
 */
const DISGUISES: Array<[string, string]> = [
  ['a bidi override', '\u202E'],
  ['a left-to-right override', '\u202D'],
  ['a right-to-left mark', '\u200F'],
  ['a zero-width space', '\u200B'],
  ['a zero-width joiner', '\u200D'],
  ['a word joiner', '\u2060'],
  ['a left-to-right isolate', '\u2066'],
  ['a right-to-left isolate', '\u2067'],
  ['a first-strong isolate', '\u2068'],
  ['a pop directional isolate', '\u2069'],
  ['a byte order mark', '\uFEFF'],
  ['a soft hyphen', '\u00AD'],
  ['a line separator', '\u2028'],
  ['a paragraph separator', '\u2029'],
  ['a control character', '\u0007'],
  ['a lone surrogate', '\uD800'],
];

const SHOWN_FIELDS: Array<[string, (c: string) => string]> = [
  ['client_name', (c) => `Claude${c}gpj.exe`],
  ['client_uri', (c) => `https://claude.ai/${c}about`],
  ['logo_uri', (c) => `https://claude.ai/logo${c}.png`],
  ['scope', (c) => `tools${c}:call`],
  ['software_id', (c) => `claude${c}`],
  ['software_version', (c) => `1.0${c}`],
];

let h: GatewayHarness;

beforeAll(async () => {
  h = await startHostileHarness();
});
afterAll(async () => {
  await h?.close();
});

async function register(metadata: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(h.urls.registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'string tests', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none', ...metadata }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('registration (RFC 7591) refuses disguising characters in every displayed string', () => {
  it('refuses a client_name with a bidi override', async () => {
    const { status, body } = await register({ client_name: 'Claude\u202Egpj.exe' });
    expect(status).toBe(400);
    expect(body['error']).toBe('invalid_client_metadata');
    expect(String(body['error_description'])).toMatch(/^client_name: /);
  });

  it('refuses each format character, separator and control character in each displayed field, naming the field', async () => {
    const accepted: string[] = [];
    for (const [field, value] of SHOWN_FIELDS) {
      for (const [what, char] of DISGUISES) {
        const { status, body } = await register({ [field]: value(char) });
        const named = String(body['error_description'] ?? '').startsWith(`${field}: `);
        if (status !== 400 || body['error'] !== 'invalid_client_metadata' || !named)
          accepted.push(`${field} with ${what}: ${status} ${JSON.stringify(body).slice(0, 120)}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('refuses a client_name that only starts or ends with a disguise, rather than trimming it away', async () => {
    for (const name of ['\uFEFFClaude', 'Claude\u2028', '\u200BClaude\u200B']) {
      const { status, body } = await register({ client_name: name });
      expect(status, JSON.stringify(name)).toBe(400);
      expect(body['error']).toBe('invalid_client_metadata');
    }
  });

  it('refuses a redirect URI hiding a bidi override or a zero-width space with invalid_redirect_uri', async () => {
    for (const uri of [
      'https://claude.ai/api/mcp/\u202Ekcabllac_htua',
      'https://claude.ai/api/\u200Bmcp/auth_callback',
      'cursor://anysphere\u2066.cursor-mcp/cb',
    ]) {
      const { status, body } = await register({ redirect_uris: [uri] });
      expect(status, JSON.stringify(uri)).toBe(400);
      expect(body['error']).toBe('invalid_redirect_uri');
    }
  });

  it('still accepts names in any script, with accents and a plain emoji', async () => {
    for (const name of ['Claude für Café', '日本語のクライアント', 'Клиент', 'عميل', 'Claude 🙂']) {
      const { status, body } = await register({ client_name: name });
      expect(status, name).toBe(201);
      expect(body['client_name']).toBe(name);
    }
  });
});

describe('an RFC 7592 update is held to the same rule', () => {
  it('refuses an update that renames the client with a zero-width space', async () => {
    const client = await registerClient(h, { client_name: 'Claude' });
    const res = await fetch(String(client['registration_client_uri']), {
      method: 'PUT',
      headers: { authorization: `Bearer ${String(client['registration_access_token'])}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client.client_id, client_name: 'Cla\u200Bude', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['error']).toBe('invalid_client_metadata');
    expect(String(body['error_description'])).toMatch(/^client_name: /);
  });
});

describe('a Client ID Metadata Document is held to the same rule', () => {
  const URL_ID = 'https://app.example/client.json';
  const problemOf = (doc: Record<string, unknown>): string => {
    try {
      parseCimdDocument({ client_id: URL_ID, redirect_uris: [CLIENT_REDIRECT], ...doc }, URL_ID);
    } catch (err) {
      if (err instanceof DocumentProblem) return err.message;
      throw err;
    }
    return 'accepted';
  };

  it('refuses a metadata document whose client_name hides a bidi override', () => {
    expect(problemOf({ client_name: 'Claude\u202Egpj.exe' })).toMatch(/^client_name: /);
  });

  it('refuses each disguise in each displayed member of a document, naming the member', () => {
    const accepted: string[] = [];
    for (const [field, value] of SHOWN_FIELDS.filter(([f]) => ['client_name', 'client_uri', 'logo_uri', 'scope'].includes(f))) {
      for (const [what, char] of DISGUISES) {
        const problem = problemOf({ [field]: value(char) });
        if (!problem.startsWith(`${field}: `)) accepted.push(`${field} with ${what}: ${problem}`);
      }
    }
    expect(accepted).toEqual([]);
    expect(problemOf({ redirect_uris: ['https://claude.ai/\u202Ecb'] })).toMatch(/^redirect_uris\.0: /);
    expect(problemOf({ client_name: 'Claude für Café' })).toBe('accepted');
  });
});

describe('after all of the above', () => {
  it('still answers /health', async () => {
    await expectHealthy(h.urls.issuer);
  });
});
