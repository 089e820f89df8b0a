/**
 * MCP protocol revisions this bridge speaks over Streamable HTTP. The SDK's
 * SUPPORTED_PROTOCOL_VERSIONS also lists 2024-11-05 and 2024-10-07, which predate Streamable
 * HTTP (they used the HTTP+SSE transport), so they are not accepted in the header here.
 * 2026-07-28 drops sessions and `initialize`, which a per-session stdio bridge cannot offer.
 */
export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;

export type SupportedProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];

/**
 * Transports spec (2025-06-18 onwards), "Protocol Version Header": a server that receives no
 * MCP-Protocol-Version header and has no other way to know SHOULD assume 2025-03-26. It is
 * also what we record when a child's initialize result carries no protocolVersion.
 */
export const DEFAULT_PROTOCOL_VERSION: SupportedProtocolVersion = '2025-03-26';

export function isSupportedProtocolVersion(version: string): version is SupportedProtocolVersion {
  return (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(version);
}

/**
 * The header is acceptable when it names a version we speak, or exactly the version this
 * session's child negotiated: an older stdio server can answer initialize with 2024-11-05,
 * the SDK client accepts that and then sends it on every request; refusing it would break
 * sessions that the child itself agreed to.
 */
export function isAcceptedProtocolHeader(header: string, negotiated: string | undefined): boolean {
  return isSupportedProtocolVersion(header) || header === negotiated;
}

/**
 * JSON-RPC batching exists in 2025-03-26 (and the revisions before it) and was removed in
 * 2025-06-18. Revision names are ISO dates, so string order is release order.
 */
export function allowsBatch(negotiated: string): boolean {
  return negotiated <= '2025-03-26';
}
