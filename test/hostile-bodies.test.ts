import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHarness } from './helpers/gateway-harness.js';
import { genuineToken } from './helpers/forged-tokens.js';
import { expectHealthy, expectNo5xx, registerConfidential, startHostileHarness, type ConfidentialClient } from './helpers/hostile.js';
import { send } from './helpers/raw-http.js';

/**
 * Malformed, oversized and mistyped request bodies at every endpoint that reads one. The OAuth
 * endpoints parse at most 32 KB (auth-app.ts); past it the answer is 413, and a wrong content
 * type or charset is a 4xx (RFC 6749 §5.2 invalid_request), never a crash.
 */
let h: GatewayHarness;
let client: ConfidentialClient;
let token: string;

beforeAll(async () => {
  h = await startHostileHarness();
  client = await registerConfidential(h);
  token = await genuineToken(h, h.urls.resourceFor('echo'));
});
afterAll(async () => {
  await h?.close();
});

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const big = 'a'.repeat(40 * 1024);

interface BodyCase {
  name: string;
  type?: string;
  encoding?: string;
  body: string | Buffer;
  /** The status an OAuth endpoint that parses this media type must answer, when it is fixed. */
  oauthStatus?: number;
}

const CASES: BodyCase[] = [
  { name: 'malformed JSON', type: JSON_TYPE, body: '{not json' },
  { name: 'truncated JSON', type: JSON_TYPE, body: '{"redirect_uris": ["https://app.example/cb"' },
  { name: 'JSON array', type: JSON_TYPE, body: '[]' },
  { name: 'JSON string', type: JSON_TYPE, body: '"x"' },
  { name: 'JSON null', type: JSON_TYPE, body: 'null' },
  { name: 'JSON huge number', type: JSON_TYPE, body: '1e999999' },
  { name: 'deeply nested JSON objects', type: JSON_TYPE, body: `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}` },
  { name: 'deeply nested JSON arrays', type: JSON_TYPE, body: `${'['.repeat(12_000)}${']'.repeat(12_000)}` },
  {
    name: 'prototype-polluting keys',
    type: JSON_TYPE,
    body: '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"redirect_uris":["https://app.example/cb"]}',
  },
  {
    name: 'JSON strings: lone surrogate, NUL, ESC',
    type: JSON_TYPE,
    body: '{"client_name":"\\ud800\\u0000\\u001b[2J","redirect_uris":["https://app.example/cb"],"client_id":"\\u0000"}',
  },
  { name: 'JSON with a UTF-8 BOM', type: JSON_TYPE, body: '\ufeff{"redirect_uris":["https://app.example/cb"]}' },
  { name: 'invalid UTF-8 bytes', type: JSON_TYPE, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
  { name: 'duplicate JSON keys', type: JSON_TYPE, body: '{"redirect_uris":["https://app.example/cb"],"redirect_uris":"javascript:alert(1)"}' },
  { name: 'form: malformed percent-encoding', type: FORM, body: 'grant_type=%ZZ&code=%&client_id=%E0%A4%A&token=%' },
  { name: 'form: empty names and values', type: FORM, body: '=&=&&&=x&grant_type=&token=' },
  {
    name: 'form: repeated parameters',
    type: FORM,
    body: 'grant_type=authorization_code&grant_type=refresh_token&client_id=a&client_id=b&token=a&token=b&consent_id=a&consent_id=b&decision=approve&decision=deny',
  },
  { name: 'form: bracket arrays and objects', type: FORM, body: 'client_id[]=a&client_id[x]=b&grant_type[]=refresh_token&token[a][b]=c&decision[]=approve' },
  { name: 'form: 60 parameters', type: FORM, body: Array.from({ length: 60 }, (_, i) => `p${i}=${i}`).join('&'), oauthStatus: 413 },
  { name: 'form: control characters', type: FORM, body: 'grant_type=authorization_code&client_id=%00%01%1b%0d%0a&code=%7f&code_verifier=%c0%80&token=%00' },
  { name: 'form: non-ASCII', type: FORM, body: 'grant_type=refresh_token&client_id=%E6%BC%A2%F0%9F%99%82&refresh_token=%E2%80%AE&token=%F0%9F%99%82' },
  { name: 'form: a 30 KB value', type: FORM, body: `grant_type=refresh_token&refresh_token=${'a'.repeat(30_000)}&token=${'b'.repeat(1000)}` },
  { name: 'oversized form (40 KB)', type: FORM, body: `x=${big}`, oauthStatus: 413 },
  { name: 'oversized JSON (40 KB)', type: JSON_TYPE, body: JSON.stringify({ redirect_uris: ['https://app.example/cb'], client_name: big }), oauthStatus: 413 },
  { name: '1 MB form', type: FORM, body: `x=${'a'.repeat(1 << 20)}`, oauthStatus: 413 },
  { name: 'text/plain', type: 'text/plain', body: 'grant_type=refresh_token&token=x' },
  { name: 'no content type', body: 'grant_type=refresh_token&token=x' },
  { name: 'form in UTF-16', type: `${FORM}; charset=utf-16`, body: 'grant_type=refresh_token' },
  { name: 'JSON in ISO-8859-1', type: `${JSON_TYPE}; charset=iso-8859-1`, body: '{"redirect_uris":["https://app.example/cb"]}' },
  { name: 'JSON in UTF-16', type: `${JSON_TYPE}; charset=utf-16le`, body: Buffer.from('{"redirect_uris":[]}', 'utf16le') },
  { name: 'parameters in the media type', type: `${FORM}; charset="utf-8"; boundary=x; q=1`, body: 'grant_type=refresh_token' },
  { name: 'media type in capitals', type: 'APPLICATION/X-WWW-FORM-URLENCODED', body: 'grant_type=refresh_token' },
  { name: 'malformed media type', type: 'application/;;;charset', body: 'grant_type=refresh_token' },
  {
    name: 'multipart body',
    type: 'multipart/form-data; boundary=XX',
    body: '--XX\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nrefresh_token\r\n--XX--\r\n',
  },
  { name: 'JSON sent as a form', type: FORM, body: '{"grant_type":"refresh_token","redirect_uris":["https://app.example/cb"]}' },
  { name: 'a form sent as JSON', type: JSON_TYPE, body: 'grant_type=refresh_token&token=x' },
  { name: 'gzip that is not gzip', type: FORM, encoding: 'gzip', body: 'not gzip at all' },
  { name: 'gzip bomb (2 MB inflated)', type: FORM, encoding: 'gzip', body: gzipSync(`x=${'0'.repeat(2 << 20)}`), oauthStatus: 413 },
  { name: 'valid gzip', type: FORM, encoding: 'gzip', body: gzipSync('grant_type=refresh_token&client_id=x&token=x') },
  { name: 'deflate garbage', type: JSON_TYPE, encoding: 'deflate', body: 'garbage' },
  { name: 'unknown content encoding', type: FORM, encoding: 'x-compress-9000', body: 'grant_type=refresh_token', oauthStatus: 415 },
];

/** The endpoints that read a body, with the credentials that get a request past authentication to the parser and beyond. */
function endpoints(): Array<{ name: string; method: string; path: string; headers: Record<string, string>; oauth: boolean; parses?: string }> {
  const registration = new URL(client.registrationClientUri).pathname;
  return [
    { name: 'POST /register', method: 'POST', path: '/register', headers: {}, oauth: true, parses: JSON_TYPE },
    {
      name: 'PUT /register/:id',
      method: 'PUT',
      path: registration,
      headers: { authorization: `Bearer ${client.registrationAccessToken}` },
      oauth: true,
      parses: JSON_TYPE,
    },
    { name: 'POST /token', method: 'POST', path: '/token', headers: { authorization: client.authorization }, oauth: true, parses: FORM },
    { name: 'POST /token (public)', method: 'POST', path: '/token', headers: {}, oauth: true, parses: FORM },
    { name: 'POST /revoke', method: 'POST', path: '/revoke', headers: { authorization: client.authorization }, oauth: true, parses: FORM },
    { name: 'POST /introspect', method: 'POST', path: '/introspect', headers: { authorization: client.authorization }, oauth: true, parses: FORM },
    { name: 'POST /consent', method: 'POST', path: '/consent', headers: { cookie: 'mcpgw-consent=abc' }, oauth: true, parses: FORM },
    {
      name: 'POST /echo/mcp',
      method: 'POST',
      path: '/echo/mcp',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json, text/event-stream' },
      oauth: false,
    },
    { name: 'POST /verify', method: 'POST', path: '/verify', headers: { authorization: `Bearer ${token}`, 'x-forwarded-uri': '/echo/mcp' }, oauth: false },
    { name: 'POST /authorize', method: 'POST', path: '/authorize', headers: {}, oauth: false },
  ];
}

describe('hostile bodies', () => {
  it('answers every malformed, oversized or mistyped body at every endpoint with a 4xx at worst', async () => {
    const wrong: string[] = [];
    for (const endpoint of endpoints()) {
      for (const c of CASES) {
        const headers: Record<string, string> = { ...endpoint.headers };
        if (c.type !== undefined) headers['content-type'] = c.type;
        if (c.encoding !== undefined) headers['content-encoding'] = c.encoding;
        const res = await send(h.urls.issuer, { method: endpoint.method, path: endpoint.path, headers, body: c.body });
        const label = `${endpoint.name} with ${c.name}`;
        expectNo5xx(res.status, label);
        const parsed = endpoint.parses !== undefined && c.type === endpoint.parses;
        if (parsed && c.oauthStatus !== undefined && res.status !== c.oauthStatus) wrong.push(`${label}: ${res.status}, expected ${c.oauthStatus}`);
        if (endpoint.oauth && res.status >= 400 && !res.headers['content-type']?.startsWith('text/html')) {
          // RFC 6749 §5.2: errors are a JSON object with `error`.
          const error = (JSON.parse(res.body) as Record<string, unknown>)['error'];
          if (typeof error !== 'string') wrong.push(`${label}: error body ${res.body.slice(0, 80)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses JSON at /token and a form at /register with 400, naming the media type', async () => {
    const json = await send(h.urls.issuer, {
      method: 'POST',
      path: '/token',
      headers: { 'content-type': JSON_TYPE },
      body: '{"grant_type":"refresh_token","refresh_token":"x","client_id":"y"}',
    });
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body)).toMatchObject({ error: 'invalid_request' });
    const form = await send(h.urls.issuer, {
      method: 'POST',
      path: '/register',
      headers: { 'content-type': FORM },
      body: 'redirect_uris=https%3A%2F%2Fapp.example%2Fcb',
    });
    expect(form.status).toBe(400);
    expect(JSON.parse(form.body)).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it('leaves the client untouched after every hostile PUT', async () => {
    const res = await fetch(client.registrationClientUri, { headers: { authorization: `Bearer ${client.registrationAccessToken}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['redirect_uris']).toEqual(['http://127.0.0.1:53682/callback']);
    expect(body['token_endpoint_auth_method']).toBe('client_secret_basic');
  });
});

describe('after all of the above', () => {
  it('still answers /health', async () => {
    await expectHealthy(h.urls.issuer);
  });
});
