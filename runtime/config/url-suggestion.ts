import { isLoopbackHost } from './loopback-host.js';

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?(\/.*)?$/;

/**
 * The URL someone meant who wrote a host (`mcp.example.com`, `127.0.0.1:8080`) where a URL
 * belongs: https for a real host, http for loopback (the gateway's only plain-HTTP case).
 * Undefined when the text does not look like a host at all.
 */
export function suggestUrl(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.includes('://')) return undefined;
  const match = HOST_PORT.exec(trimmed);
  if (!match) return undefined;
  const host = match[1]!;
  if (!host.includes('.') && !host.startsWith('[') && host !== 'localhost') return undefined;
  return `${isLoopbackHost(host) ? 'http' : 'https'}://${trimmed}`;
}
