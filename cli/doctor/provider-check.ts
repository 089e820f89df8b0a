import { urlText } from '../../runtime/config/config-codecs.js';
import { readFile } from 'node:fs/promises';
import { quote } from 'shell-quote';
import { fetchOidcMetadata } from '../../runtime/auth/upstream/oidc-discovery.js';
import { createGitHubUpstream, resolveGitHubUrls } from '../../runtime/auth/upstream/github-upstream.js';
import type { GitHubProviderConfig } from '../../runtime/config/schema.js';
import { isGatewayError } from '../../runtime/errors.js';
import { githubSecretHint, requireGitHubClientId } from '../../runtime/config/github-client-id.js';
import { fail, pass, skip, type CheckResult, type DoctorContext } from './doctor-check.js';

const USER_AGENT = 'mcp-gateway-doctor';

/**
 * The login provider is usable without anybody logging in: for GitHub, the client id and secret
 * are exchanged with a code that cannot be valid; for OpenID Connect, discovery runs exactly as
 * the auth runtime runs it at start.
 */
export async function checkProvider(ctx: DoctorContext): Promise<CheckResult> {
  const provider = ctx.config.provider;
  switch (provider.type) {
    case 'local':
      return skip('provider', `local one-time-code login (user ${provider.user}): no identity provider to reach`);
    case 'github':
      return checkGitHub(ctx, provider);
    case 'oidc':
      return checkOidc(ctx, provider.issuer, provider.tokenEndpointAuthMethod);
  }
}

/**
 * GitHub's token endpoint checks the client credentials before the code ("Troubleshooting OAuth
 * app access token request errors"): the gateway's GitHub client exchanges a made-up code, and
 * `bad_verification_code` means the id and secret are right. Nobody's login is involved.
 */
async function checkGitHub(ctx: DoctorContext, provider: GitHubProviderConfig): Promise<CheckResult> {
  let clientId: string;
  try {
    clientId = requireGitHubClientId(provider, ctx.paths.dir);
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return fail('provider', err.message, err.hint ?? `mcp-gateway github register --dir ${quote([ctx.paths.dir])}`);
  }
  const secret = await readSecretText(ctx.paths.githubClientSecret);
  if (secret === undefined || secret === '') {
    return fail(
      'provider',
      `the GitHub client secret is missing (${ctx.paths.githubClientSecret}), so GitHub logins cannot work`,
      githubSecretHint(ctx.paths.dir),
    );
  }
  const { webBaseUrl } = resolveGitHubUrls(urlText(provider.url));
  const github = createGitHubUpstream({
    baseUrl: urlText(provider.url),
    clientId,
    clientSecret: secret,
    fetch: ctx.deps.fetch,
    timeoutMs: ctx.deps.timeoutMs,
    userAgent: USER_AGENT,
  });
  try {
    await github.checkClientCredentials();
    return pass('provider', `GitHub at ${webBaseUrl} accepts client id ${clientId} and its secret`);
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    const url = `${webBaseUrl}/login/oauth/access_token`;
    if (err.code === 'ERR_UPSTREAM_UNREACHABLE') {
      return fail(
        'provider',
        withCause(err),
        `check provider.url (now ${webBaseUrl}) and that this host can reach ${new URL(url).origin} (DNS, proxy, firewall)`,
      );
    }
    return fail('provider', `${err.message} (client id ${clientId}, ${url})`, err.hint ?? `check the GitHub app's client id and secret`);
  }
}

async function checkOidc(ctx: DoctorContext, issuer: string, method: 'client_secret_basic' | 'client_secret_post' | undefined): Promise<CheckResult> {
  const secret = await readSecretText(ctx.paths.oidcClientSecret);
  const clientAuth = secret === undefined || secret === '' ? 'none' : (method ?? 'auto');
  try {
    const metadata = await fetchOidcMetadata({ issuer, clientAuth, fetch: ctx.deps.fetch, timeoutMs: ctx.deps.timeoutMs, userAgent: USER_AGENT });
    return pass(
      'provider',
      `OpenID Connect discovery for ${metadata.issuer} works (token endpoint ${metadata.tokenEndpoint}, client authentication ${metadata.tokenEndpointAuth})`,
    );
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return fail('provider', withCause(err), err.hint ?? `check provider.issuer (now ${issuer})`);
  }
}

/** The secret's content whatever the file's mode: a mode problem is the secrets check's to report. */
async function readSecretText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND...) in its cause: the message gets it. */
function withCause(err: Error): string {
  let cause: unknown = err.cause;
  let reason: string | undefined;
  for (let depth = 0; cause instanceof Error && depth < 4; depth++) {
    const code = (cause as { code?: unknown }).code;
    reason = typeof code === 'string' ? code : cause.message;
    cause = cause.cause;
  }
  return reason === undefined || reason === 'fetch failed' || !err.message.startsWith('could not reach') ? err.message : `${err.message} (${reason})`;
}
