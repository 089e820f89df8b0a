import { checkHealth } from '../../runtime/entrypoints/healthcheck.js';
import { GatewayError } from '../../runtime/errors.js';

/** `mcp-gateway runtime healthcheck [--unix-socket PATH] URL`: exit 0 when GET URL answers 200 within 2 s, else 1 with one line saying what was seen. */
export async function runRuntimeHealthcheck({ url, unixSocket }: { url: string; unixSocket?: string }): Promise<void> {
  if (!URL.canParse(url))
    throw new GatewayError('ERR_USAGE', `${url} is not a URL`, { hint: 'e.g. mcp-gateway runtime healthcheck http://127.0.0.1:8000/health' });
  const { healthy, detail } = await checkHealth(url, unixSocket === undefined ? {} : { socketPath: unixSocket });
  const where = unixSocket === undefined ? url : `${url} (via ${unixSocket})`;
  if (!healthy) throw new GatewayError('ERR_UNHEALTHY', `${where}: ${detail}`, { hint: 'see the service log (mcp-gateway logs SERVICE)' });
}
