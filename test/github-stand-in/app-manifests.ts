import { generateKeyPairSync, randomBytes } from 'node:crypto';
import express, { type Request, type Response } from 'express';

/**
 * The stand-in's half of "Registering a GitHub App from a manifest" (GitHub docs) and of the
 * REST endpoint "Create a GitHub App from a manifest":
 * - `POST /settings/apps/new` and `POST /organizations/ORG/settings/apps/new`, a browser form with
 *   a `manifest` field (JSON) and `?state=`. GitHub shows the app to create and the person clicks
 *   Create: here that click happens at once, and the browser is sent to the manifest's
 *   `redirect_url` with `code` (and `state`).
 * - `POST {api}/app-manifests/CODE/conversions`, without authentication: the code (single-use,
 *   valid one hour) becomes the app's id, slug, client id and secret, webhook secret and private
 *   key, and the new app's client id works in the OAuth web flow from then on.
 * Where the docs leave room it is strict: unknown manifest keys are refused (a typo such as
 * `callback_url` would otherwise pass silently), `hook_attributes` needs its `url` (GitHub refuses
 * the manifest otherwise, even with `active: false`), and `default_events` needs a webhook.
 */

export interface SubmittedManifest {
  manifest: Record<string, unknown>;
  /** The account that will own the app: the signed-in user, or the organization. */
  owner: { login: string; type: 'User' | 'Organization' };
  state: string | undefined;
}

export interface StandInApp {
  id: number;
  slug: string;
  name: string;
  owner: SubmittedManifest['owner'];
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  pem: string;
  permissions: Record<string, string>;
  callbackUrls: string[];
}

export interface ManifestRoutesContext {
  /** The stand-in's base URL and API base, known once it listens. */
  baseUrl: () => string;
  apiUrl: () => string;
  now: () => number;
  /** Who is signed in to "GitHub" in the browser, and the organizations they belong to. */
  signedIn: () => { login: string; orgs: string[] } | null;
  /** Makes the new app's client id and secret work in the OAuth web flow. */
  registerClient: (app: StandInApp) => void;
  submitted: SubmittedManifest[];
  apps: StandInApp[];
}

/** "You must complete all three steps in the GitHub App Manifest flow within one hour." */
const MANIFEST_CODE_TTL_MS = 60 * 60 * 1000;
const MAX_NAME_LENGTH = 34;
const MANIFEST_KEYS = new Set([
  'name',
  'url',
  'hook_attributes',
  'redirect_url',
  'callback_urls',
  'setup_url',
  'description',
  'public',
  'default_events',
  'default_permissions',
  'request_oauth_on_install',
  'setup_on_update',
]);

/** Why GitHub would refuse this manifest ("Invalid GitHub App configuration"), or none. */
export function manifestProblems(manifest: unknown): string[] {
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return ['the manifest is not a JSON object'];
  const m = manifest as Record<string, unknown>;
  const problems = Object.keys(m)
    .filter((key) => !MANIFEST_KEYS.has(key))
    .map((key) => `"${key}" is not a manifest parameter`);
  const isUrl = (value: unknown): boolean => typeof value === 'string' && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
  if (!isUrl(m['url'])) problems.push('"url" wasn\'t supplied');
  if (m['name'] !== undefined && (typeof m['name'] !== 'string' || m['name'].length === 0 || m['name'].length > MAX_NAME_LENGTH)) {
    problems.push(`"name" must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
  }
  const hook = m['hook_attributes'];
  if (hook !== undefined) {
    if (typeof hook !== 'object' || hook === null || !isUrl((hook as Record<string, unknown>)['url']))
      problems.push('"url" wasn\'t supplied (hook_attributes)');
  }
  const events = m['default_events'];
  if (events !== undefined && (!Array.isArray(events) || (events.length > 0 && hook === undefined)))
    problems.push('"default_events" need a webhook (hook_attributes)');
  for (const key of ['redirect_url', 'setup_url'] as const) if (m[key] !== undefined && !isUrl(m[key])) problems.push(`"${key}" is not a URL`);
  const callbacks = m['callback_urls'];
  if (callbacks !== undefined && (!Array.isArray(callbacks) || callbacks.length > 10 || !callbacks.every(isUrl)))
    problems.push('"callback_urls" must be up to 10 URLs');
  for (const key of ['public', 'request_oauth_on_install', 'setup_on_update'] as const) {
    if (m[key] !== undefined && typeof m[key] !== 'boolean') problems.push(`"${key}" must be a boolean`);
  }
  const permissions = m['default_permissions'];
  if (permissions !== undefined) {
    if (typeof permissions !== 'object' || permissions === null || Array.isArray(permissions)) problems.push('"default_permissions" must be an object');
    else
      for (const [name, access] of Object.entries(permissions))
        if (access !== 'read' && access !== 'write') problems.push(`permission "${name}" must be read or write`);
  }
  if (m['description'] !== undefined && typeof m['description'] !== 'string') problems.push('"description" must be a string');
  return problems;
}

export function manifestRoutes(ctx: ManifestRoutesContext): { web: express.Router; api: express.Router } {
  const codes = new Map<string, { submission: SubmittedManifest; expiresAt: number }>();
  const web = express.Router();
  const api = express.Router();

  const create = (req: Request, res: Response, org: string | undefined): void => {
    const user = ctx.signedIn();
    if (!user) return void page(res, 200, 'Sign in to GitHub to continue.');
    if (org !== undefined && !user.orgs.some((o) => o.toLowerCase() === org.toLowerCase())) {
      return void page(res, 404, 'Not Found: you cannot register apps for this organization.');
    }
    const form = new URLSearchParams(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
    let manifest: unknown;
    try {
      manifest = JSON.parse(form.get('manifest') ?? '');
    } catch {
      return void page(res, 422, 'Invalid GitHub App configuration: the manifest is not valid JSON.');
    }
    const problems = manifestProblems(manifest);
    if (problems.length > 0) return void page(res, 422, `Invalid GitHub App configuration. Error: ${problems.join('; ')}`);
    const m = manifest as Record<string, unknown>;
    const owner = org === undefined ? { login: user.login, type: 'User' as const } : { login: org, type: 'Organization' as const };
    const name = typeof m['name'] === 'string' ? m['name'] : `${owner.login}-app`;
    if (ctx.apps.some((a) => a.name.toLowerCase() === name.toLowerCase())) return void page(res, 422, 'Name is already in use.');
    const state = new URL(req.originalUrl, 'http://stand-in').searchParams.get('state') ?? undefined;
    const submission: SubmittedManifest = { manifest: m, owner, state };
    ctx.submitted.push(submission);
    const code = randomBytes(20).toString('hex');
    codes.set(code, { submission, expiresAt: ctx.now() + MANIFEST_CODE_TTL_MS });
    if (typeof m['redirect_url'] !== 'string') return void page(res, 201, `Your GitHub App ${name} was created.`);
    const back = new URL(m['redirect_url']);
    back.searchParams.set('code', code);
    if (state !== undefined) back.searchParams.set('state', state);
    res.redirect(302, back.toString());
  };
  web.post('/settings/apps/new', (req, res) => create(req, res, undefined));
  web.post('/organizations/:org/settings/apps/new', (req, res) => create(req, res, String(req.params['org'])));

  api.post('/app-manifests/:code/conversions', (req, res) => {
    const code = String(req.params['code']);
    const issued = codes.get(code);
    codes.delete(code); // single use
    if (!issued || issued.expiresAt <= ctx.now()) {
      return void res
        .status(404)
        .json({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest', status: '404' });
    }
    const { manifest: m, owner } = issued.submission;
    const name = typeof m['name'] === 'string' ? m['name'] : `${owner.login}-app`;
    const permissions = { ...((m['default_permissions'] as Record<string, string> | undefined) ?? {}), metadata: 'read' };
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const app: StandInApp = {
      id: 9001 + ctx.apps.length,
      slug: name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, ''),
      name,
      owner,
      clientId: `Iv23li${randomBytes(7).toString('hex')}`,
      clientSecret: randomBytes(20).toString('hex'),
      webhookSecret: randomBytes(20).toString('hex'),
      pem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      permissions,
      callbackUrls: (m['callback_urls'] as string[] | undefined) ?? [],
    };
    ctx.apps.push(app);
    ctx.registerClient(app);
    const at = new Date(ctx.now()).toISOString();
    res.status(201).json({
      id: app.id,
      slug: app.slug,
      node_id: `A_${app.id}`,
      owner: { login: owner.login, id: 7000 + ctx.apps.length, type: owner.type, url: `${ctx.apiUrl()}/users/${owner.login}` },
      name,
      description: m['description'] ?? null,
      external_url: m['url'],
      html_url: `${ctx.baseUrl()}/apps/${app.slug}`,
      created_at: at,
      updated_at: at,
      permissions,
      events: [],
      client_id: app.clientId,
      client_secret: app.clientSecret,
      webhook_secret: app.webhookSecret,
      pem: app.pem,
    });
  });
  return { web, api };
}

function page(res: Response, status: number, message: string): void {
  const safe = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res.status(status).type('html').send(`<!DOCTYPE html><html><head><title>GitHub</title></head><body><h1>${safe}</h1></body></html>`);
}
