import { join } from 'node:path';
import { projectPaths } from '../runtime/config/project-paths.js';
import { serverDataDir } from '../runtime/config/server-mounts.js';

/** What `add-server NAME` writes for a well-known server, resolved against one project directory. */
export interface CatalogServer {
  command: string;
  args: string[];
  env: Record<string, string>;
  description: string;
  /** Directories to create before the server first starts (absolute paths). */
  createDirs: Array<{ path: string; mode: number }>;
  /** Host paths the server needs inside its sandbox (servers.NAME.mounts). */
  mounts?: Array<{ path: string; readOnly: boolean }>;
  /** Said once after adding: what the server needs or where its data lives. */
  notes: string[];
}

interface CatalogEntry {
  summary: string;
  resolve(projectDir: string): CatalogServer;
}

const UV_NOTE = 'needs uv on the gateway host (uvx runs the Python package): https://docs.astral.sh/uv/';

function fixed(command: string, args: string[], description: string, notes: string[] = []): CatalogEntry {
  return { summary: description, resolve: () => ({ command, args, env: {}, description, createDirs: [], notes }) };
}

/**
 * The reference servers of modelcontextprotocol/servers, launched as their READMEs document
 * (npx for the TypeScript ones, uvx for the Python ones).
 */
const CATALOG: Record<string, CatalogEntry> = {
  time: fixed('uvx', ['mcp-server-time'], 'Current time and time-zone conversion', [UV_NOTE]),
  fetch: fixed('uvx', ['mcp-server-fetch'], 'Fetches a web page and returns it as markdown', [
    UV_NOTE,
    'it fetches any URL a client asks for from the gateway host, including hosts on its private network',
  ]),
  memory: {
    summary: 'Knowledge-graph memory that persists across chats',
    resolve: (projectDir) => {
      // Without MEMORY_FILE_PATH the server writes next to its own code, i.e. inside the npx
      // cache, where a cache clean loses it. Keep it in the server's own data directory: the
      // only place its sandbox may write, and a named volume in Docker, at the same path.
      const dataDir = serverDataDir(projectDir, 'memory');
      const file = join(dataDir, 'memory.jsonl');
      return {
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-memory'],
        env: { MEMORY_FILE_PATH: file },
        description: 'Knowledge-graph memory that persists across chats',
        // The server does not create the directory; 0700 because the gateway's state (tokens) lives beside it.
        createDirs: [{ path: dataDir, mode: 0o700 }],
        notes: [`memories are stored in ${file}, shared by every user of this endpoint`],
      };
    },
  },
  filesystem: {
    summary: 'Read and write files in <project dir>/files',
    resolve: (projectDir) => {
      const files = join(projectPaths(projectDir).dir, 'files');
      return {
        command: 'npx',
        // The server refuses to start without at least one allowed directory (or client roots).
        args: ['-y', '@modelcontextprotocol/server-filesystem', files],
        env: {},
        description: 'Read and write files in the files/ directory of the gateway project',
        createDirs: [{ path: files, mode: 0o755 }],
        // The sandbox hides the project directory; this grant brings files/ back, and nothing else.
        mounts: [{ path: files, readOnly: false }],
        notes: [`it can read and write only ${files} (created now); to share another directory, add it with --command and --mount`],
      };
    },
  },
  // `stdio` is the default transport, named explicitly because newer versions also offer sse and streamableHttp.
  everything: fixed('npx', ['-y', '@modelcontextprotocol/server-everything', 'stdio'], 'Test server exercising every MCP feature (for client developers)'),
  'sequential-thinking': fixed(
    'npx',
    ['-y', '@modelcontextprotocol/server-sequential-thinking'],
    'Structured step-by-step problem solving with revisable thoughts',
  ),
};

export function catalogNames(): string[] {
  return Object.keys(CATALOG);
}

export function catalogSummaries(): Array<{ name: string; summary: string }> {
  return Object.entries(CATALOG).map(([name, entry]) => ({ name, summary: entry.summary }));
}

export function resolveCatalogServer(name: string, projectDir: string): CatalogServer | undefined {
  return Object.hasOwn(CATALOG, name) ? CATALOG[name]?.resolve(projectDir) : undefined;
}
