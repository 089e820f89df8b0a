import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeHtml } from '../../runtime/auth/pages/html.js';
import { GatewayError } from '../../runtime/errors.js';
import { manifestFormAction, type AppManifest } from './app-manifest.js';

export interface ManifestFlowOptions<T> {
  /** GitHub's web base (`https://github.com` or the Enterprise Server URL). */
  webBaseUrl: string;
  /** Register the app for this organization instead of the personal account. */
  org?: string | undefined;
  /** The manifest, once the local callback URL (with its random port) is known. */
  manifest: (callbackUrl: string) => AppManifest;
  /** How long to wait for GitHub's redirect before giving up. */
  timeoutMs: number;
  /** The server listens: show (and open) `startUrl`. */
  onReady: (startUrl: string) => void;
  /** Turns the code into the result (convert it, save the credentials); its error fails the flow. */
  complete: (code: string) => Promise<T>;
  /** What the browser shows once `complete` succeeded. */
  describe?: (result: T) => string;
}

const HOST = '127.0.0.1';
const AUTO_SUBMIT = `document.getElementById('manifest-form').submit();`;
const AUTO_SUBMIT_HASH = createHash('sha256').update(AUTO_SUBMIT).digest('base64');

/**
 * The one-shot local half of GitHub's manifest flow. A server on 127.0.0.1 (random port) serves,
 * under a random path, a page whose form POSTs the manifest to GitHub (submitted by a script, or
 * by its button); GitHub sends the browser back to `/callback?code&state`. The state is random,
 * compared in constant time and single-use; the Host header must be ours (a DNS-rebinding page
 * must not read the state). The first callback decides: a wrong state fails the flow, a right one
 * runs `complete`. Either way, or on timeout, the server is closed before this resolves.
 */
export async function runManifestFlow<T>(options: ManifestFlowOptions<T>): Promise<T> {
  const { webBaseUrl, org, timeoutMs, onReady, complete, describe = () => 'The GitHub App was created and its credentials were saved.' } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number');
  const state = randomBytes(32).toString('base64url');
  const expectedState = digest(state);
  const pagePath = `/${randomBytes(16).toString('base64url')}`;

  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => void res.writeHead(503).end();
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${HOST}:${port}`;
  const manifest = options.manifest(`${origin}/callback`);
  const action = manifestFormAction(webBaseUrl, org, state);
  const page = manifestPage(manifest, action, org);
  const formOrigin = new URL(action).origin;

  return new Promise<T>((resolve, reject) => {
    let phase: 'waiting' | 'completing' | 'done' = 'waiting';
    const end = (outcome: { ok: true; value: T } | { ok: false; error: unknown }): void => {
      phase = 'done';
      clearTimeout(timer);
      server.close(() => (outcome.ok ? resolve(outcome.value) : reject(outcome.error)));
      server.closeIdleConnections();
      // A browser holding a connection open must not keep the command alive.
      setTimeout(() => server.closeAllConnections(), 1_000).unref();
    };
    const timer = setTimeout(() => {
      if (phase !== 'waiting') return;
      end({
        ok: false,
        error: new GatewayError(
          'ERR_REGISTRATION_TIMEOUT',
          `GitHub did not send the browser back within ${Math.round(timeoutMs / 1000)} s; nothing was saved`,
          {
            hint: 'run `mcp-gateway github register` again and open the printed URL in a browser that is signed in to GitHub (--timeout 20m gives more time; --manual registers an OAuth app by hand)',
          },
        ),
      });
    }, timeoutMs);

    handle = (req, res) => {
      const url = new URL(req.url ?? '/', origin);
      if (req.headers.host !== `${HOST}:${port}`) return void sendText(res, 421, 'Misdirected request: open the URL printed by mcp-gateway.');
      if (req.method !== 'GET' && req.method !== 'HEAD') return void sendText(res, 405, 'Method not allowed.');
      if (url.pathname === pagePath) {
        if (phase !== 'waiting') return void sendPage(res, 410, 'Already done', '<p>This registration has finished. Look at the terminal.</p>');
        return void sendPage(res, 200, 'Create the GitHub App', page, { script: AUTO_SUBMIT_HASH, formOrigin });
      }
      if (url.pathname !== '/callback') return void sendText(res, 404, 'Not found.');
      if (req.method !== 'GET') return void sendText(res, 405, 'Method not allowed.');
      if (phase !== 'waiting')
        return void sendPage(res, 409, 'Already done', '<p>This registration has already received its answer from GitHub. Look at the terminal.</p>');

      const sentState = url.searchParams.get('state');
      if (sentState === null || !timingSafeEqual(digest(sentState), expectedState)) {
        sendPage(
          res,
          400,
          'Not this registration',
          '<p>The answer did not carry this registration’s state, so it was refused and nothing was saved. Look at the terminal.</p>',
        );
        return end({
          ok: false,
          error: new GatewayError('ERR_REGISTRATION_REFUSED', 'a callback arrived with a wrong or missing state and was refused; nothing was saved', {
            hint: 'run `mcp-gateway github register` again and use only the URL it prints; if you did not open that callback yourself, something else on this machine is probing the port',
          }),
        });
      }
      const code = url.searchParams.get('code');
      if (!code) {
        sendPage(res, 400, 'No code', '<p>GitHub sent no code back, so no app was saved. Look at the terminal.</p>');
        return end({
          ok: false,
          error: new GatewayError('ERR_REGISTRATION_REFUSED', 'GitHub sent the browser back without a code; nothing was saved', {
            hint: 'run `mcp-gateway github register` again and click "Create GitHub App" on GitHub',
          }),
        });
      }
      phase = 'completing';
      clearTimeout(timer);
      complete(code).then(
        (value) => {
          sendPage(res, 200, 'GitHub App created', `<p>${escapeHtml(describe(value))}</p><p>You can close this tab and return to the terminal.</p>`);
          end({ ok: true, value });
        },
        (error: unknown) => {
          const message = error instanceof GatewayError ? error.message : 'an unexpected error';
          sendPage(
            res,
            502,
            'Not saved',
            `<p>The app could not be saved: ${escapeHtml(message)}.</p><p>Nothing was written to the project. Look at the terminal for what to do.</p>`,
          );
          end({ ok: false, error });
        },
      );
    };

    try {
      onReady(`${origin}${pagePath}`);
    } catch (error) {
      end({ ok: false, error });
    }
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The manifest travels in a hidden field (HTML-escaped JSON), so the button works without the
 * script; the script only saves the click. The form's method precedes its action (headless test
 * browsers read forms that way).
 */
function manifestPage(manifest: AppManifest, action: string, org: string | undefined): string {
  const owner = org === undefined ? 'your personal account' : `the organization ${org}`;
  return (
    `<p>Sending you to GitHub to create the app <strong>${escapeHtml(manifest.name)}</strong> for ${escapeHtml(owner)}. ` +
    `On GitHub, check the name and click <strong>Create GitHub App</strong>.</p>` +
    `<dl><dt>Homepage</dt><dd>${escapeHtml(manifest.url)}</dd><dt>Login callback</dt><dd>${escapeHtml(manifest.callback_urls.join(', '))}</dd>` +
    `<dt>Webhook</dt><dd>none</dd><dt>Permissions</dt><dd>${escapeHtml(describePermissions(manifest.default_permissions))}</dd></dl>` +
    `<form id="manifest-form" method="post" action="${escapeHtml(action)}">` +
    `<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">` +
    `<button class="primary" type="submit">Continue to GitHub</button>` +
    `</form>` +
    `<script>${AUTO_SUBMIT}</script>`
  );
}

function describePermissions(permissions: Record<string, string>): string {
  const entries = Object.entries(permissions);
  return entries.length === 0 ? 'none (only who the user is)' : entries.map(([name, access]) => `${name}: ${access}`).join(', ');
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1b1f24;margin:0}main{max-width:36rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 1px 4px #0002}h1{font-size:1.3rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}dt{color:#57606a}dd{margin:0;word-break:break-all}button{font-size:1rem;padding:.6rem 1.2rem;border-radius:8px;border:1px solid #1f6feb;background:#1f6feb;color:#fff;cursor:pointer}`;

function sendPage(res: ServerResponse, status: number, title: string, body: string, allow: { script?: string; formOrigin?: string } = {}): void {
  const csp = [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    ...(allow.script ? [`script-src 'sha256-${allow.script}'`] : []),
    `form-action ${allow.formOrigin ?? "'none'"}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // The callback URL carries the code and the state.
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    // One request per connection: once the flow ends, closing the server does not wait on keep-alive.
    connection: 'close',
  });
  res.end(html);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }).end(`${text}\n`);
}
