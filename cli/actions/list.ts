import { urlText } from '../../runtime/config/config-codecs.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import type { ServerConfig } from '../../runtime/config/schema.js';
import { formatCommandLine } from '../command-line.js';
import { dirArg } from '../dir-arg.js';
import { endpointUrl } from '../endpoint-url.js';
import { processOutput, type CliOutput } from '../output.js';

export interface ListOptions {
  dir: string;
  /** One JSON document on stdout, nothing else. */
  json?: boolean | undefined;
}

export interface ListDeps {
  output: CliOutput;
}

/** The `list --json` document; environment values are left out because they often hold API keys. */
export interface ServerListing {
  publicUrl: string;
  servers: Array<{
    name: string;
    endpoint: string;
    /** null for a server shipped inside the gateway (`builtin`) and for a remote one (`url`). */
    command: string | null;
    args: string[];
    description: string | null;
    builtin?: string;
    /** The upstream Streamable HTTP endpoint of a remote server. */
    url?: string;
    /** The members of an aggregate endpoint. */
    aggregate?: string[];
  }>;
}

export async function runList(options: ListOptions, deps: Partial<ListDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  const listing: ServerListing = {
    publicUrl: urlText(config.publicUrl),
    servers: Object.entries(config.servers)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, server]) => ({ name, endpoint: endpointUrl(config.publicUrl, name), ...describe(server) })),
  };
  if (options.json) {
    output.stdout(`${JSON.stringify(listing, null, 2)}\n`);
    return;
  }
  if (listing.servers.length === 0) {
    output.stdout(`No servers configured. Add one: mcp-gateway add-server time${dirArg(paths.dir)}\n`);
    return;
  }
  const lines: string[] = [];
  for (const server of listing.servers) {
    lines.push(`${server.name}  ${server.endpoint}`);
    if (server.description) lines.push(`  ${server.description}`);
    if (server.url !== undefined) lines.push(`  -> ${server.url}`);
    else if (server.aggregate !== undefined) lines.push(`  aggregates ${server.aggregate.join(', ')} (tools named <server>__<tool>)`);
    else lines.push(server.command === null ? `  built into mcp-gateway (${server.builtin})` : `  $ ${formatCommandLine(server.command, server.args)}`);
  }
  output.stdout(`${lines.join('\n')}\n`);
}

function describe(server: ServerConfig): Pick<ServerListing['servers'][number], 'command' | 'args' | 'description' | 'builtin' | 'url' | 'aggregate'> {
  if ('builtin' in server) return { command: null, args: [], description: server.description ?? null, builtin: server.builtin };
  if ('url' in server) return { command: null, args: [], description: server.description ?? null, url: urlText(server.url) };
  if ('aggregate' in server) return { command: null, args: [], description: server.description ?? null, aggregate: server.aggregate };
  return { command: server.command, args: server.args, description: server.description ?? null };
}
