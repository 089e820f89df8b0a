/**
 * A minimal headless "browser" for OAuth tests: follows redirects by hand (so each hop can be
 * inspected), keeps cookies per host, and can submit the gateway's HTML forms (consent, local
 * login). It stops as soon as it is sent to a URL under `stopAt` (the client's redirect URI).
 */
export interface BrowserPage {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

export interface BrowserResult {
  /** Where the browser was finally sent (the client's redirect URI with code/error), if it got there. */
  redirectedTo?: URL;
  /** The last page it showed otherwise. */
  page?: BrowserPage;
  hops: string[];
}

export class TestBrowser {
  private readonly cookies = new Map<string, Map<string, string>>();

  constructor(private readonly stopAt: string) {}

  /** `stopAt` overrides the constructor's for this navigation (e.g. to stop at the gateway's /callback). */
  async open(url: string, init: { method?: string; form?: Record<string, string>; stopAt?: string } = {}): Promise<BrowserResult> {
    const stopAt = init.stopAt ?? this.stopAt;
    const hops: string[] = [];
    let current = new URL(url);
    let method = init.method ?? 'GET';
    let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let i = 0; i < 20; i++) {
      hops.push(current.href);
      if (current.href.startsWith(stopAt)) return { redirectedTo: current, hops };
      const headers: Record<string, string> = {};
      const jar = this.cookies.get(current.host);
      if (jar && jar.size > 0) headers['cookie'] = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(current, { method, headers, redirect: 'manual', ...(body === undefined ? {} : { body }) });
      this.remember(current.host, res.headers);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        current = new URL(location, current);
        method = 'GET';
        body = undefined;
        continue;
      }
      return { page: { url: current.href, status: res.status, headers: res.headers, body: await res.text() }, hops };
    }
    throw new Error(`too many redirects: ${hops.join(' -> ')}`);
  }

  /** Submits the first form on the page with its hidden fields plus `extra` (e.g. the button pressed). */
  async submitForm(page: BrowserPage, extra: Record<string, string>, { stopAt }: { stopAt?: string } = {}): Promise<BrowserResult> {
    const form = /<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(page.body);
    if (!form) throw new Error(`no form on ${page.url}: ${page.body.slice(0, 300)}`);
    const fields: Record<string, string> = {};
    for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[input[1]!] = decodeEntities(input[2]!);
    return this.open(new URL(form[1]!, page.url).href, { method: 'POST', form: { ...fields, ...extra }, ...(stopAt === undefined ? {} : { stopAt }) });
  }

  cookieHeaderFor(host: string): string | undefined {
    const jar = this.cookies.get(host);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  private remember(host: string, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const jar = this.cookies.get(host) ?? new Map<string, string>();
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
      this.cookies.set(host, jar);
    }
  }
}

function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}
