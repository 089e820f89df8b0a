import { it } from 'vitest';
import { startHostileHarness } from './helpers/hostile.js';
import { CLIENT_REDIRECT, loginAndConsent, mcpInitialize, newPkce, obtainTokens, registerClient, tokenRequest } from './helpers/oauth-flow.js';
it('probe', async () => {
  const h = await startHostileHarness();
  const echo = h.urls.resourceFor('echo');
  const client = await registerClient(h);
  const pkce = newPkce();
  const result = await loginAndConsent(h, { response_type: 'code', client_id: client.client_id, code_challenge: pkce.challenge, code_challenge_method: 'S256', resource: echo });
  const code = result.redirectedTo!.searchParams.get('code')!;
  const res = await tokenRequest(h, { grant_type: 'authorization_code', code, code_verifier: pkce.verifier, client_id: client.client_id });
  console.log('NOREDIRECT', res.status, JSON.stringify(res.body));
  for (const n of [2, 3, 6]) {
    const tokens = await obtainTokens(h, echo);
    const burst = await Promise.all(Array.from({ length: n }, () => tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId })));
    const statuses = burst.map((r) => r.status);
    const alive = await Promise.all(burst.filter((r) => r.status === 200).map(async (r) => (await mcpInitialize(echo, String(r.body['access_token']))).status));
    console.log('BURST', n, statuses.join(','), 'access tokens afterwards:', alive.join(','));
  }
  // sequential double use within grace
  const t = await obtainTokens(h, echo);
  const a = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: t.clientId });
  const b = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: t.clientId });
  const c = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: t.clientId });
  console.log('SEQ3', a.status, b.status, c.status, (await mcpInitialize(echo, String(b.body['access_token']))).status);
  await h.close();
});
