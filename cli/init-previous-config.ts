import { copyFile, readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { parseConfigDocument } from '../runtime/config/load-config.js';
import type { ProjectPaths } from '../runtime/config/project-paths.js';
import { configSchema, type GatewayConfig } from '../runtime/config/schema.js';
import { GatewayError } from '../runtime/errors.js';

/** The top-level keys `init` writes from its answers; anything else a previous file had is not carried over. */
const WRITTEN_BY_INIT = new Set(['version', 'publicUrl', 'listen', 'provider', 'allowedUsers', 'deploy', 'servers']);

/** What `init --force` takes from the mcp-gateway.yaml it replaces. */
export interface PreviousConfig {
  /** The `servers` section as written (the user's own notation), to write again; empty with --reset-servers. */
  servers: Record<string, unknown>;
  kept: string[];
  /** Servers --reset-servers dropped. */
  dropped: string[];
  /** The old file's top-level settings as written, to tell which ones init resets (resetSettings). */
  raw: Record<string, unknown>;
  /** Where the old file was copied before it is replaced. */
  backup: string;
}

/**
 * Reads the config `init --force` is about to replace. Its servers are kept (a re-run of init
 * changes the login or the URL, not what is served) unless `resetServers`; a file that cannot be
 * read as YAML is refused then, since its servers could not be carried over. The old file is
 * copied to mcp-gateway.yaml.bak first, so settings init does not ask about can be copied back.
 * Undefined when there is no previous config.
 */
export async function readPreviousConfig(paths: ProjectPaths, { resetServers }: { resetServers: boolean }): Promise<PreviousConfig | undefined> {
  let text: string;
  try {
    text = await readFile(paths.configFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EISDIR') {
      throw new GatewayError('ERR_CONFIG_INVALID', `${paths.configFile} is a directory, not a file`, {
        hint: 'remove or rename that directory, then run init again',
      });
    }
    throw err;
  }
  let raw: unknown;
  try {
    raw = parseConfigDocument(text, paths.configFile).toJS();
  } catch (err) {
    if (!resetServers) {
      throw new GatewayError('ERR_CONFIG_INVALID', `${(err as Error).message}, so init --force cannot keep its servers`, {
        hint: 'fix the file, or pass --reset-servers as well to replace it with a config without servers (a copy is kept as mcp-gateway.yaml.bak)',
        cause: err,
      });
    }
    raw = {};
  }
  const record = isRecord(raw) ? raw : {};
  const servers = isRecord(record['servers']) ? record['servers'] : {};
  if (record['servers'] !== undefined && record['servers'] !== null && !isRecord(record['servers']) && !resetServers) {
    throw new GatewayError('ERR_CONFIG_INVALID', `${paths.configFile}: servers is not a map of server names, so init --force cannot keep them`, {
      hint: 'fix the servers section, or pass --reset-servers as well to start without servers',
    });
  }
  const names = Object.keys(servers);
  const backup = `${paths.configFile}.bak`;
  await copyFile(paths.configFile, backup);
  return {
    servers: resetServers ? {} : servers,
    kept: resetServers ? [] : names,
    dropped: resetServers ? names : [],
    raw: record,
    backup,
  };
}

/**
 * The top-level settings init does not ask about (tokens, sandbox, store...) whose value in the
 * old file differs from what the new one has (init spells out every default): those it resets.
 * Compared in the schema's written notation, so `30s` and `30000` ms are the same setting.
 */
export function resetSettings(previous: PreviousConfig, written: GatewayConfig): string[] {
  const parsed = configSchema.safeParse(previous.raw);
  const before = parsed.success ? (configSchema.encode(parsed.data) as Record<string, unknown>) : previous.raw;
  const after = configSchema.encode(written) as Record<string, unknown>;
  return Object.keys(previous.raw).filter((key) => !WRITTEN_BY_INIT.has(key) && !isDeepStrictEqual(before[key], after[key]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
