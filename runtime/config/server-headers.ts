import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { ProjectPaths } from './project-paths.js';
import { readSecret, writeSecret } from './secrets.js';

/**
 * Static headers a remote MCP server needs (an API key, usually). The YAML lists only their
 * names (`servers.NAME.headers`); the values are a secret, one JSON object per server in
 * `.secrets/servers/NAME.headers.json` (0600).
 */
export function serverHeadersPath(paths: ProjectPaths, name: string): string {
  return join(paths.secretsDir, 'servers', `${name}.headers.json`);
}

export async function writeServerHeaders(paths: ProjectPaths, name: string, headers: Readonly<Record<string, string>>): Promise<void> {
  await writeSecret(serverHeadersPath(paths, name), `${JSON.stringify(headers, null, 2)}\n`);
}

export async function removeServerHeaders(paths: ProjectPaths, name: string): Promise<void> {
  await rm(serverHeadersPath(paths, name), { force: true });
}

/** The header values for `names`; every listed name must have one. */
export async function readServerHeaders(paths: ProjectPaths, name: string, names: readonly string[]): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  const path = serverHeadersPath(paths, name);
  const hint = `write them again: mcp-gateway add-server ${name} --url URL --header NAME=VALUE ... --force`;
  const text = await readSecret(path);
  if (text === undefined) throw new GatewayError('ERR_SECRET_MISSING', `the header values of server ${name} are missing (${path})`, { hint });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError('ERR_CONFIG_INVALID', `${path} is not valid JSON`, { hint });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GatewayError('ERR_CONFIG_INVALID', `${path} must hold a JSON object of header names and values`, { hint });
  }
  const stored = new Map(Object.entries(parsed).map(([key, value]) => [key.toLowerCase(), value] as const));
  const headers: Record<string, string> = {};
  for (const header of names) {
    const value = stored.get(header.toLowerCase());
    if (typeof value !== 'string') throw new GatewayError('ERR_SECRET_MISSING', `${path} has no value for header ${header} of server ${name}`, { hint });
    headers[header] = value;
  }
  return headers;
}
