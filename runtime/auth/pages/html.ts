import type { Response } from 'express';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Every HTML page of the gateway: no scripts at all, not frameable (clickjacking on the consent
 * page), never cached, no referrer (the URL may carry a state). `formActions` lists where a form
 * may post or be redirected after posting (Chrome applies form-action to the redirect too).
 */
export function sendPage(res: Response, status: number, title: string, body: string, formActions: string[] = []): void {
  const formAction = ["'self'", ...formActions].join(' ');
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
        `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`,
    );
}

export function sendErrorPage(res: Response, status: number, title: string, message: string): void {
  sendPage(
    res,
    status,
    title,
    `<p>${escapeHtml(message)}</p><p class="muted">Nothing was sent to the application. Start the connection again from your MCP client.</p>`,
  );
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1b1f24;margin:0}main{max-width:34rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 1px 4px #0002}h1{font-size:1.3rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}dt{color:#57606a}dd{margin:0;word-break:break-all}.muted{color:#57606a;font-size:.9rem}button{font-size:1rem;padding:.6rem 1.2rem;border-radius:8px;border:1px solid #1b1f24;margin-right:.6rem;cursor:pointer}button.primary{background:#1f6feb;color:#fff;border-color:#1f6feb}input{font-size:1.2rem;padding:.4rem;letter-spacing:.15em;width:12rem}`;
