import { GITHUB_ORG } from '../../runtime/config/schema.js';

/**
 * The GitHub App the gateway logs users in with, as a manifest for GitHub's "Registering a
 * GitHub App from a manifest" flow: the browser POSTs it as the `manifest` form field to
 * `{base}/settings/apps/new` (or `/organizations/ORG/settings/apps/new`), the person clicks
 * Create, GitHub redirects to `redirect_url` with a `code` that converts into the app's
 * credentials within an hour.
 */
export interface AppManifest {
  name: string;
  /** The app's homepage (required by GitHub). */
  url: string;
  description: string;
  /** Where GitHub sends the browser with the code: our one-shot local server. */
  redirect_url: string;
  /** Where GitHub may send users after they authorize the app: the gateway's own `/callback`. */
  callback_urls: string[];
  public: boolean;
  default_permissions: Record<string, 'read' | 'write'>;
  request_oauth_on_install: boolean;
}

/** GitHub App names are limited to 34 characters; GitHub refuses a longer one on its form. */
export const MAX_APP_NAME_LENGTH = 34;

/** `mcp-gateway-<host of the public URL>`, in the characters GitHub keeps in a slug, cut to fit. */
export function defaultAppName(publicUrl: URL): string {
  const host = publicUrl.hostname.replace(/^\[|\]$/g, '');
  const name = `mcp-gateway-${host}`
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, MAX_APP_NAME_LENGTH);
  return name.replace(/-+$/, '');
}

/** Why `name` cannot be a GitHub App name, or undefined when it can. */
export function appNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'must not be empty';
  if (name.length > MAX_APP_NAME_LENGTH) return `must be at most ${MAX_APP_NAME_LENGTH} characters (GitHub's limit), not ${name.length}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (/[\x00-\x1f\x7f]/.test(name)) return 'must not contain control characters';
  return undefined;
}

export interface AppManifestOptions {
  name: string;
  /** The gateway's public URL: the app's homepage; its `/callback` is the login callback. */
  publicUrl: URL;
  /** The local server's callback that receives the manifest code. */
  redirectUrl: string;
  /** Org or team rules are configured: the login must read memberships. */
  needsMembership: boolean;
}

/**
 * No webhook: `hook_attributes` is left out entirely, because GitHub rejects the manifest when the
 * object is present without a `url`, even with `active: false`, and an app without it gets no
 * webhook (the gateway receives no events). No permission beyond the user's identity, which a
 * user access token always has (`GET /user`), except the organization "Members" permission when
 * org or team rules need `GET /user/orgs` and `/user/teams`. A GitHub App takes no OAuth scopes.
 */
export function buildAppManifest({ name, publicUrl, redirectUrl, needsMembership }: AppManifestOptions): AppManifest {
  const origin = publicUrl.origin;
  return {
    name,
    url: origin,
    description: `Sign-in for the MCP servers behind ${origin} (mcp-gateway).`,
    redirect_url: redirectUrl,
    callback_urls: [`${origin}/callback`],
    public: false,
    default_permissions: needsMembership ? { members: 'read' } : {},
    request_oauth_on_install: false,
  };
}

/** Where the manifest form posts: the personal account's or the organization's "new GitHub App" page. */
export function manifestFormAction(webBaseUrl: string, org: string | undefined, state: string): string {
  return `${accountSettingsBase(webBaseUrl, org)}/settings/apps/new?${new URLSearchParams({ state }).toString()}`;
}

/** The "Register a new OAuth application" page, for `--manual`. */
export function oauthAppFormUrl(webBaseUrl: string, org: string | undefined): string {
  return `${accountSettingsBase(webBaseUrl, org)}/settings/applications/new`;
}

/** The settings page of a registered GitHub App. */
export function appSettingsUrl(webBaseUrl: string, org: string | undefined, slug: string): string {
  return `${accountSettingsBase(webBaseUrl, org)}/settings/apps/${encodeURIComponent(slug)}`;
}

function accountSettingsBase(webBaseUrl: string, org: string | undefined): string {
  if (org === undefined) return webBaseUrl;
  if (!GITHUB_ORG.test(org)) throw new TypeError(`not a GitHub organization login: ${org}`);
  return `${webBaseUrl}/organizations/${org}`;
}
