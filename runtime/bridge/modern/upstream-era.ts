import { isJsonObject } from '../json-rpc.js';
import { FIRST_MODERN_VERSION, META, MODERN_PROTOCOL_VERSIONS } from './modern-protocol.js';

export type UpstreamEra = 'modern' | 'legacy' | 'unknown';

const PROBE_TIMEOUT_MS = 10_000;
const MAX_PROBE_BYTES = 1024 * 1024;

/**
 * Whether a remote server speaks 2026-07-28: it answers `server/discover` with a version the
 * gateway serves statelessly (streamable-http.mdx "Backward Compatibility": a modern request
 * first; a legacy server refuses it). 'unknown' when it could not be reached.
 */
export async function probeUpstreamEra(url: URL, staticHeaders: Readonly<Record<string, string>>): Promise<UpstreamEra> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 'mcp-gateway-era',
    method: 'server/discover',
    params: {
      _meta: { [META.protocolVersion]: FIRST_MODERN_VERSION, [META.clientCapabilities]: {}, [META.clientInfo]: { name: 'mcp-gateway', version: '1' } },
    },
  });
  let text: string;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        ...staticHeaders,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': FIRST_MODERN_VERSION,
        'mcp-method': 'server/discover',
      },
      body,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return 'legacy';
    }
    text = (await res.text()).slice(0, MAX_PROBE_BYTES);
  } catch {
    return 'unknown';
  }
  const json = text.trimStart().startsWith('{') ? text : (/^data: ?(.*)$/m.exec(text)?.[1] ?? '');
  try {
    const message = JSON.parse(json) as unknown;
    const result = isJsonObject(message) ? message['result'] : undefined;
    const versions = isJsonObject(result) && Array.isArray(result['supportedVersions']) ? result['supportedVersions'] : [];
    return versions.some((version) => (MODERN_PROTOCOL_VERSIONS as readonly unknown[]).includes(version)) ? 'modern' : 'legacy';
  } catch {
    return 'legacy';
  }
}
