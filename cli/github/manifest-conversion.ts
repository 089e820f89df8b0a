import { z } from 'zod';
import { GITHUB_API_VERSION } from '../../runtime/auth/upstream/github-upstream.js';
import { parseJson, requestUpstream, untrusted } from '../../runtime/auth/upstream/upstream-http.js';
import { GatewayError } from '../../runtime/errors.js';

/** What GitHub returns for the new app, credentials included. Never log or print the secrets. */
export interface RegisteredGitHubApp {
  id: number;
  slug: string;
  name: string;
  clientId: string;
  clientSecret: string;
  /** GitHub generates one even for an app without a webhook; null on instances that do not. */
  webhookSecret: string | null;
  /** The app's private key (PEM): signs the JWTs an app uses to act as itself. */
  pem: string;
  owner: string | undefined;
  /** The app's public page (`{base}/apps/SLUG` on github.com); `/installations/new` installs it. */
  htmlUrl: string | undefined;
}

export interface ConvertManifestCodeOptions {
  /** `https://api.github.com`, or `{base}/api/v3` on GitHub Enterprise Server. */
  apiBaseUrl: string;
  code: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

// "Create a GitHub App from a manifest" (REST: apps), 201 Created.
const conversionBody = z.object({
  id: z.number().int().positive(),
  slug: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  client_id: z.string().regex(/^[\x21-\x7e]{1,200}$/),
  client_secret: z.string().regex(/^[\x21-\x7e]{1,500}$/),
  webhook_secret: z.string().nullable().optional(),
  pem: z.string().includes('PRIVATE KEY'),
  owner: z.object({ login: z.string() }).nullable().optional(),
  html_url: z.string().optional(),
});
const apiErrorBody = z.object({ message: z.string() });

/**
 * `POST {api}/app-manifests/{code}/conversions`: the code from GitHub's redirect becomes the app's
 * id, client id and secret, webhook secret and private key. The call needs no authentication; the
 * code is single-use and expires one hour after the manifest was submitted.
 */
export async function convertManifestCode({
  apiBaseUrl,
  code,
  fetch: fetchImpl = globalThis.fetch,
  timeoutMs = 15_000,
}: ConvertManifestCodeOptions): Promise<RegisteredGitHubApp> {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(code)) {
    throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', 'GitHub sent back a code that is not a manifest code', {
      hint: 'start again with `mcp-gateway github register`',
    });
  }
  const url = `${apiBaseUrl}/app-manifests/${code}/conversions`;
  const shown = `${apiBaseUrl}/app-manifests/…/conversions`;
  const hint = `check --github-url and that this host can reach ${new URL(apiBaseUrl).origin} (DNS, proxy, firewall)`;
  const { status, text } = await requestUpstream(
    fetchImpl,
    url,
    {
      method: 'POST',
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': GITHUB_API_VERSION, 'user-agent': 'mcp-gateway' },
    },
    { system: 'GitHub', timeoutMs, hint },
  ).catch((err: unknown) => {
    // The URL carries the code: keep it out of the message.
    if (err instanceof GatewayError)
      throw new GatewayError(err.code, err.message.split(url).join(shown), { ...(err.hint ? { hint: err.hint } : {}), cause: err.cause });
    throw err;
  });
  const json = parseJson(text);
  if (status === 201 || status === 200) {
    const app = conversionBody.safeParse(json);
    if (!app.success) {
      throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `unexpected reply from GitHub at ${shown} (HTTP ${status}): not a GitHub App`, {
        hint: 'check that --github-url is the GitHub or GitHub Enterprise Server web address',
      });
    }
    const a = app.data;
    return {
      id: a.id,
      slug: a.slug,
      name: a.name,
      clientId: a.client_id,
      clientSecret: a.client_secret,
      webhookSecret: a.webhook_secret ?? null,
      pem: a.pem,
      owner: a.owner?.login,
      htmlUrl: a.html_url,
    };
  }
  const said = apiErrorBody.safeParse(json);
  const detail = said.success ? `: ${untrusted(said.data.message, [code])}` : '';
  if (status >= 500 || status === 429 || (status === 403 && /rate limit/i.test(detail))) {
    throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `GitHub failed at ${shown} (HTTP ${status})${detail}`, {
      hint: `${hint}; if GitHub is down or rate-limiting, wait and run \`mcp-gateway github register\` again (the app may already exist: delete the half-finished one in your GitHub settings first)`,
    });
  }
  if (status === 404 || status === 422) {
    throw new GatewayError('ERR_UPSTREAM_DENIED', `GitHub did not accept the manifest code (HTTP ${status})${detail}`, {
      hint: 'the code is single-use and expires an hour after the app was created: run `mcp-gateway github register` again (and delete the app GitHub created, in your GitHub settings, if it shows up there)',
    });
  }
  throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `unexpected reply from GitHub at ${shown} (HTTP ${status})${detail}`, {
    hint: 'check that --github-url is the GitHub or GitHub Enterprise Server web address',
  });
}
