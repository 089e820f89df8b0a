import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHarness } from './helpers/gateway-harness.js';
import {
  HTML_PAYLOADS,
  expectHealthy,
  expectNo5xx,
  expectSafePage,
  postForm,
  startHostileHarness,
  startLocalLoginGateway,
  type LocalLoginGateway,
} from './helpers/hostile.js';
import { CLIENT_REDIRECT, authorizeUrl, newPkce, registerClient } from './helpers/oauth-flow.js';
import { TestBrowser } from './helpers/test-browser.js';

/**
 * HTML and script injection into every page the gateway renders: /authorize error pages, the
 * GitHub callback's error pages, the consent page (the client chooses its own client_name) and
 * the local login pages. A payload may come back only escaped, and every page carries the CSP.
 */
let h: GatewayHarness;

beforeAll(async () => {
  h = await startHostileHarness();
});
afterAll(async () => {
  await h?.close();
});

async function page(url: string, init: RequestInit = {}): Promise<{ status: number; body: string; csp: string | null; location: string | null }> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, body: await res.text(), csp: res.headers.get('content-security-policy'), location: res.headers.get('location') };
}

describe('/authorize error pages', () => {
  it('never reflects a hostile client_id, redirect_uri, state or resource unescaped', async () => {
    const client = await registerClient(h);
    const pkce = newPkce();
    for (const payload of HTML_PAYLOADS) {
      const cases: Array<Record<string, string>> = [
        { client_id: payload },
        { client_id: client.client_id, redirect_uri: payload, state: payload },
        { client_id: client.client_id, redirect_uri: `${CLIENT_REDIRECT}${payload}` },
      ];
      for (const params of cases) {
        const res = await page(authorizeUrl(h, { response_type: 'code', code_challenge: pkce.challenge, code_challenge_method: 'S256', ...params }));
        expect(res.status).toBe(400);
        expect(res.location).toBeNull();
        expectSafePage(JSON.stringify(params), res.body, res.csp);
      }
    }
  });

  it('escapes the page for repeated and bracketed parameters too', async () => {
    for (const query of ['client_id=a&client_id=%3Cscript%3E', 'client_id[%3Cscript%3E]=1', `client_id=${encodeURIComponent(HTML_PAYLOADS[1]!)}&client_id=x`]) {
      const res = await page(`${h.urls.authorizationEndpoint}?${query}`);
      expect(res.status).toBe(400);
      expectSafePage(query, res.body, res.csp);
    }
  });

  it('carries a hostile state and resource back to the client only percent-encoded, and the redirect body escaped', async () => {
    const client = await registerClient(h);
    const payload = `${HTML_PAYLOADS[0]!}\r\nSet-Cookie: x=1`;
    const res = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: CLIENT_REDIRECT,
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
        state: payload,
        resource: payload,
      }),
      {
        redirect: 'manual',
        headers: { accept: 'text/html' },
      },
    );
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location).not.toMatch(/[<>"\r\n ]/);
    const to = new URL(location);
    expect(`${to.origin}${to.pathname}`).toBe(CLIENT_REDIRECT);
    expect(to.searchParams.get('state')).toBe(payload);
    expect(to.searchParams.get('error')).toBe('invalid_target');
    expect(res.headers.get('set-cookie')).toBeNull();
    const body = await res.text();
    for (const p of HTML_PAYLOADS) expect(body).not.toContain(p);
  });
});

describe('GitHub callback and consent error pages', () => {
  it('never reflects hostile state, code or error parameters', async () => {
    for (const payload of HTML_PAYLOADS) {
      const q = new URLSearchParams({ state: payload, code: payload, error: payload, error_description: payload });
      const res = await page(`${h.urls.callback}?${q}`);
      expect(res.status).toBe(400);
      expectSafePage(`callback ${payload}`, res.body, res.csp);
    }
  });

  it('never reflects hostile consent form fields', async () => {
    for (const payload of HTML_PAYLOADS) {
      const res = await postForm(
        h.urls.consent,
        { consent_id: payload, csrf_token: payload, decision: payload },
        { cookie: `mcpgw-consent=${encodeURIComponent(payload)}` },
      );
      expectNo5xx(res.status, `consent ${payload}`);
      expectSafePage(`consent ${payload}`, await res.text(), res.headers.get('content-security-policy'));
    }
  });
});

describe('the consent page', () => {
  it('shows a hostile client_name only escaped, not frameable, under the CSP', async () => {
    for (const payload of [...HTML_PAYLOADS, `${HTML_PAYLOADS[0]!} ${'x'.repeat(150)}`.slice(0, 200)]) {
      const client = await registerClient(h, { client_name: payload });
      const pkce = newPkce();
      const browser = new TestBrowser(CLIENT_REDIRECT);
      const result = await browser.open(
        authorizeUrl(h, {
          response_type: 'code',
          client_id: client.client_id,
          redirect_uri: CLIENT_REDIRECT,
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
          state: payload,
          resource: h.urls.resourceFor('echo'),
        }),
      );
      const consent = result.page!;
      expect(consent.status).toBe(200);
      expect(consent.body).toContain('name="decision" value="approve"');
      expectSafePage(`client_name ${payload}`, consent.body, consent.headers.get('content-security-policy'));
      expect(consent.body).toContain(payload.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`));
      expect(consent.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  // Bug: for a private-use scheme with an authority (cursor://host/path), URL.origin is the string
  // "null", so finish-login.ts puts `form-action 'self' null` in the CSP. Chrome applies form-action
  // to the redirect after the POST (html.ts says so), so approving sends the browser nowhere.
  it("lets the consent form's redirect reach a native app's private-use scheme (CSP form-action)", async () => {
    const native = 'cursor://anysphere.cursor-mcp/oauth/callback';
    const client = await registerClient(h, { redirect_uris: [native] });
    const browser = new TestBrowser(native);
    const result = await browser.open(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: native,
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
        resource: h.urls.resourceFor('echo'),
      }),
    );
    const csp = result.page!.headers.get('content-security-policy')!;
    const formAction = /form-action ([^;]+)/.exec(csp)![1]!.split(' ');
    expect(formAction).not.toContain('null');
    expect(formAction).toContain('cursor:');
  });
});

describe('the local login pages (provider: local)', () => {
  let local: LocalLoginGateway;
  beforeAll(async () => {
    local = await startLocalLoginGateway();
  });
  afterAll(async () => {
    await local?.close();
  });

  it('never reflects a hostile txn or code', async () => {
    for (const payload of HTML_PAYLOADS) {
      const shown = await page(`${local.urls.localLogin}?txn=${encodeURIComponent(payload)}`);
      expect(shown.status).toBe(400);
      expectSafePage(`GET txn ${payload}`, shown.body, shown.csp);
      const posted = await postForm(local.urls.localLogin, { txn: payload, code: payload });
      expectNo5xx(posted.status, `POST txn ${payload}`);
      expectSafePage(`POST txn ${payload}`, await posted.text(), posted.headers.get('content-security-policy'));
    }
  });

  it('escapes the login form for a real login with a hostile client and a wrong code', async () => {
    const res = await fetch(local.urls.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: HTML_PAYLOADS[0], redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' }),
    });
    const client = (await res.json()) as { client_id: string };
    const url = new URL(local.urls.authorizationEndpoint);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: newPkce().challenge,
      code_challenge_method: 'S256',
      state: HTML_PAYLOADS[1]!,
    }))
      url.searchParams.set(k, v);
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const form = (await browser.open(url.href)).page!;
    expect(form.status).toBe(200);
    expectSafePage('login form', form.body, form.headers.get('content-security-policy'));
    const wrong = await browser.submitForm(form, { code: HTML_PAYLOADS[2]! });
    expect(wrong.page?.status).toBe(401);
    expectSafePage('wrong code', wrong.page!.body, wrong.page!.headers.get('content-security-policy'));
    // The operator's terminal gets the client's own name: escaping is not HTML's job there (see the report).
    expect(local.announcements.at(-1)?.clientName).toBe(HTML_PAYLOADS[0]);
  });
});

describe('after all of the above', () => {
  it('still answers /health', async () => {
    await expectHealthy(h.urls.issuer);
  });
});
