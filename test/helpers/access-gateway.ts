import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signAccessToken } from '../../runtime/auth/tokens/access-token.js';
import { gatewayUrls, type GatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { ephemeralKeySet, type KeySet } from '../../runtime/auth/tokens/signing-keys.js';
import { createLocalLogin } from '../../runtime/auth/upstream/local-login.js';
import { parseConfig } from '../../runtime/config/load-config.js';
import { startGateway, type RunningGateway } from '../../runtime/gateway.js';
import { createLogger } from '../../runtime/logger.js';
import { createEmbeddedStore } from '../../runtime/store/embedded-store.js';
import type { Store } from '../../runtime/store/store.js';
import { freePort } from './free-port.js';
import { tempProjectDir } from './temp-project.js';

export const FILE_TOOLS_FIXTURE = fileURLToPath(new URL('../fixtures/file-tools-mcp-server.mjs', import.meta.url));

/** Who a minted token is for: GitHub-shaped subjects (`github:ID`) and the groups a login would have recorded. */
export interface TestUser {
  login: string;
  id: number;
  groups?: string[];
}

export const ALICE: TestUser = { login: 'alice', id: 1001 };
export const BOB_READER: TestUser = { login: 'bob', id: 1002, groups: ['team:acme/readers'] };
export const CAROL: TestUser = { login: 'carol', id: 1003 };

export type LogLine = Record<string, unknown>;

export interface AccessGateway {
  gateway: RunningGateway;
  urls: GatewayUrls;
  keys: KeySet;
  /** Every log entry the gateway wrote, parsed. */
  logs: LogLine[];
  /** Every write the logger made, as written (one JSON line each, if the logger does its job). */
  rawLogs: string[];
  /** The `tool_call` audit lines so far. */
  audit(): LogLine[];
  /** An access token for `server` with the gateway's keys, carrying `grp` when the user has groups. */
  token(server: string, user: TestUser): Promise<string>;
  close(): Promise<void>;
}

export interface AccessGatewayOptions {
  store?: Store;
  keys?: KeySet;
  upstreamHeaders?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Enables the admin API and GET /metrics for this bearer secret. */
  adminToken?: string;
}

/**
 * The embedded gateway for per-tool access tests: the GitHub provider in the config (access rules
 * may name teams only with it), but no login is ever made: tests mint tokens with the gateway's
 * keys, groups included, as the token endpoint would after a login. Logs are captured.
 */
export async function startAccessGateway(configOverrides: Record<string, unknown>, options: AccessGatewayOptions = {}): Promise<AccessGateway> {
  const port = await freePort();
  const config = parseConfig(
    {
      publicUrl: `http://127.0.0.1:${port}`,
      provider: { type: 'github', clientId: 'Iv1.accesstests' },
      allowedUsers: ['alice', 'bob', 'carol'],
      ...configOverrides,
    },
    'test config',
  );
  const urls = gatewayUrls(config);
  const keys = options.keys ?? (await ephemeralKeySet());
  const store = options.store ?? (await createEmbeddedStore());
  const logs: LogLine[] = [];
  const rawLogs: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: {
      write(line: string) {
        rawLogs.push(line);
        logs.push(JSON.parse(line) as LogLine);
      },
    },
  });
  // Never asked: no test logs in through it.
  const upstream = createLocalLogin({ store, user: 'alice', loginUrl: urls.localLogin, announce: () => {} });
  const project = tempProjectDir();
  const gateway = await startGateway(
    {
      config,
      store,
      keys,
      upstream,
      logger,
      projectDir: project.dir,
      ...(options.upstreamHeaders ? { upstreamHeaders: options.upstreamHeaders } : {}),
      ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
    },
    { host: '127.0.0.1', port },
  );
  return {
    gateway,
    urls,
    keys,
    logs,
    rawLogs,
    audit: () => logs.filter((line) => line['event'] === 'tool_call'),
    async token(server, user) {
      const claims = {
        sub: `github:${user.id}`,
        login: user.login,
        uid: user.id,
        clientId: 'test-client',
        audience: urls.resourceFor(server),
        ...(user.groups === undefined ? {} : { groups: user.groups }),
      };
      return (await signAccessToken(claims, { keys, issuer: urls.issuer, ttlMs: 3_600_000, now: Date.now() })).token;
    },
    async close() {
      await gateway.close();
      project.remove();
    },
  };
}

/** What a stdio fixture received, one entry per request (test/fixtures/file-tools-mcp-server.mjs). */
export interface JournalEntry {
  pid: number;
  method: string;
  name?: string;
}

/**
 * A journal file for the file-tools fixture, in a directory the sandbox lets it write (the server
 * mounts it): the proof of which requests reached a child.
 */
export function toolJournal(): { dir: string; path: string; entries(): JournalEntry[]; calls(): string[]; remove(): void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mcpgw-journal-')));
  const path = join(dir, 'journal.jsonl');
  const entries = (): JournalEntry[] => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as JournalEntry);
  };
  return {
    dir,
    path,
    entries,
    calls: () => entries().flatMap((entry) => (entry.method === 'tools/call' && entry.name !== undefined ? [entry.name] : [])),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A stdio server entry running the file-tools fixture with its journal, plus any access fields. */
export function fileToolsServer(journal: { dir: string; path: string }, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command: process.execPath,
    args: [FILE_TOOLS_FIXTURE],
    env: { TOOL_JOURNAL: journal.path },
    mounts: [{ path: journal.dir }],
    ...fields,
  };
}
