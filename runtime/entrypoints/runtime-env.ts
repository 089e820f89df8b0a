import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { parseConfigText } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { parseListen, type ListenAddress } from '../http/listen-address.js';
import type { RuntimeAddress } from './http-runtime.js';

/**
 * What the container runtimes read from their environment (the contract in
 * docs/docker-contract.md): the rendered config, where to listen, and secrets. Secrets come from
 * the service's env file; Docker secrets (files under /run/secrets) are the fallback.
 */
export type RuntimeEnv = Readonly<Record<string, string | undefined>>;

export const DEFAULT_CONFIG_PATH = '/config/mcp-gateway.yaml';
export const DEFAULT_SECRETS_DIR = '/run/secrets';
export const DEFAULT_LISTEN = '0.0.0.0:8000';
export const DEFAULT_ROUTER_LISTEN = '0.0.0.0:8080';

const RENDER_HINT = 'render the deploy folder again (mcp-gateway render, or mcp-gateway up) so compose.yaml and secrets/ match the config';

/** `MCPGW_CONFIG`, validated by the same parser as `mcp-gateway.yaml` everywhere else. */
export async function loadRuntimeConfig(env: RuntimeEnv): Promise<{ config: GatewayConfig; path: string }> {
  const path = nonEmpty(env['MCPGW_CONFIG']) ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new GatewayError('ERR_CONFIG_NOT_FOUND', `no gateway config at ${path} (MCPGW_CONFIG)`, {
        hint: `mount the deploy folder's config/ at ${DEFAULT_CONFIG_PATH.replace(/\/[^/]+$/, '')}, or set MCPGW_CONFIG; ${RENDER_HINT}`,
      });
    }
    throw err;
  }
  return { config: parseConfigText(text, path), path };
}

/** `MCPGW_LISTEN` as HOST:PORT. */
export function runtimeListen(env: RuntimeEnv, fallback: string = DEFAULT_LISTEN): ListenAddress {
  const text = nonEmpty(env['MCPGW_LISTEN']) ?? fallback;
  try {
    return parseListen(text);
  } catch {
    throw new GatewayError('ERR_CONFIG_INVALID', `MCPGW_LISTEN=${text} is not HOST:PORT`, { hint: 'e.g. MCPGW_LISTEN=0.0.0.0:8000' });
  }
}

/** The prefix of an MCPGW_LISTEN that names a Unix socket (`unix:/run/mcpgw/NAME.sock`), as a bridge of a `network: none` server listens. */
const UNIX_PREFIX = 'unix:';

/** `MCPGW_LISTEN` as HOST:PORT or `unix:/absolute/path` (bridges: see relay-runtime.ts). */
export function runtimeAddress(env: RuntimeEnv, fallback: string = DEFAULT_LISTEN): RuntimeAddress {
  const text = nonEmpty(env['MCPGW_LISTEN']) ?? fallback;
  if (!text.startsWith(UNIX_PREFIX)) return runtimeListen(env, fallback);
  return { socket: socketPath('MCPGW_LISTEN', text.slice(UNIX_PREFIX.length), `${UNIX_PREFIX}/run/mcpgw/NAME.sock`) };
}

/** A Unix socket setting such as MCPGW_RELAY_SOCKET: an absolute path, required. */
export function runtimeSocket(env: RuntimeEnv, name: string, example: string): string {
  const text = nonEmpty(env[name]);
  if (text === undefined) throw new GatewayError('ERR_CONFIG_INVALID', `${name} is not set`, { hint: `e.g. ${name}=${example}; ${RENDER_HINT}` });
  return socketPath(name, text, example);
}

function socketPath(name: string, path: string, example: string): string {
  // 107 bytes: sun_path of Linux (108 with the terminating NUL); longer paths fail to bind obscurely.
  if (!isAbsolute(path) || Buffer.byteLength(path) > 107) {
    throw new GatewayError('ERR_CONFIG_INVALID', `${name}: ${path} is not an absolute socket path of at most 107 bytes`, { hint: `e.g. ${name}=${example}` });
  }
  return path;
}

/** A URL setting such as MCPGW_AUTH_URL: http(s), parsed once at start so a typo fails the container, not a request. */
export function runtimeUrl(env: RuntimeEnv, name: string, fallback: string): string {
  const text = nonEmpty(env[name]) ?? fallback;
  let url: URL;
  try {
    url = new URL(text.replace(/\{name\}/g, 'x'));
  } catch {
    throw new GatewayError('ERR_CONFIG_INVALID', `${name}=${text} is not a URL`, { hint: `e.g. ${name}=${fallback}` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GatewayError('ERR_CONFIG_INVALID', `${name}=${text} must be an http(s) URL`, { hint: `e.g. ${name}=${fallback}` });
  }
  return text.replace(/\/+$/, '');
}

export interface SecretReader {
  /** The secret, or undefined when neither the variable nor the file exists. */
  optional(name: string): Promise<string | undefined>;
  /** The secret; a GatewayError naming the variable otherwise. */
  required(name: string, what: string): Promise<string>;
}

/**
 * `NAME` from the environment, else the Docker secret file `<secretsDir>/<name in lowercase>`.
 * Files there are not mode-checked like `.secrets/`: Docker mounts them world-readable (0444)
 * inside a container whose only user is the runtime.
 */
export function secretReader(env: RuntimeEnv, secretsDir: string = DEFAULT_SECRETS_DIR): SecretReader {
  async function optional(name: string): Promise<string | undefined> {
    const value = nonEmpty(env[name]?.trim());
    if (value !== undefined) return value;
    try {
      return nonEmpty((await readFile(join(secretsDir, name.toLowerCase()), 'utf8')).trim());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  return {
    optional,
    async required(name, what) {
      const value = await optional(name);
      if (value === undefined) {
        throw new GatewayError('ERR_SECRET_MISSING', `${what} is missing: set ${name} (or the Docker secret ${join(secretsDir, name.toLowerCase())})`, {
          hint: RENDER_HINT,
        });
      }
      return value;
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
