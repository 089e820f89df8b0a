import { readFile } from 'node:fs/promises';
import { type Document, parseDocument } from 'yaml';
import { formatIssues } from './config-issues.js';
import { GatewayError } from '../errors.js';
import { configSchema, type GatewayConfig } from './schema.js';
import { projectPaths } from './project-paths.js';
import { checkServerMounts } from './server-mounts.js';

/** Hints for the fields people most often get wrong, keyed by the first segment of the dotted path. */
const FIELD_HINTS: Record<string, string> = {
  publicUrl: 'the URL clients connect to, e.g. https://mcp.example.com or http://127.0.0.1:8080',
  provider: 'provider.type is github (with clientId) or local',
  store: 'store.type is embedded (default) or redis (with url)',
  servers:
    'each server needs a command (and optional args, env, cwd, pool, limits, mounts, sandbox, network, tools, access, rateLimit), a url (and optional headers, limits.maxMessageBytes, tools, access, rateLimit) or an aggregate (member servers; a member cannot be removed while an aggregate lists it); `mcp-gateway add-server NAME --force` rewrites one',
  sandbox: 'sandbox is on (default), strict or off',
  allowedOrigins: 'a list of origins such as https://app.example.com (scheme, host and port only)',
  allowedUsers: 'a list of GitHub logins, e.g. [alice, bob]',
  trustedProxies: 'IP addresses or CIDR ranges of the proxies in front of the gateway, e.g. [127.0.0.1, 10.0.0.0/8]',
  tokens: 'durations such as 15m, 1h, 30d',
  listen: 'HOST:PORT, e.g. 127.0.0.1:8080',
};

/** Validates an already-parsed YAML value; every problem is reported with its dotted path. */
export function parseConfig(raw: unknown, source: string): GatewayConfig {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const lines = formatIssues(result.error.issues, configSchema);
  const firstKey = String(result.error.issues[0]?.path[0] ?? '');
  throw new GatewayError('ERR_CONFIG_INVALID', `${source} is invalid:\n  ${lines.join('\n  ')}`, {
    hint: FIELD_HINTS[firstKey] ? `${firstKey}: ${FIELD_HINTS[firstKey]}` : 'fix the fields above, or run `mcp-gateway init` to write a fresh config',
  });
}

export function parseConfigText(text: string, source: string): GatewayConfig {
  return parseConfig(parseConfigDocument(text, source).toJS(), source);
}

/** The YAML document itself (comments and all), for edits that must keep what a person wrote. */
export function parseConfigDocument(text: string, source: string): Document {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0];
    const at = where ? ` at line ${where.line}, column ${where.col}` : '';
    const reason = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new GatewayError('ERR_CONFIG_INVALID', `${source} is not valid YAML${at}: ${reason}`, {
      hint: `fix the YAML syntax${at}, or run \`mcp-gateway init --force --reset-servers\` to write a fresh config (without its servers; the old file is saved as mcp-gateway.yaml.bak)`,
    });
  }
  return doc;
}

/** Reads and validates `<dir>/mcp-gateway.yaml`, once; code past this point sees only the typed model. */
export async function loadConfig(dir: string): Promise<GatewayConfig> {
  return (await loadConfigDocument(dir)).config;
}

/** The config file's document and its validated model. */
export async function loadConfigDocument(dir: string): Promise<{ document: Document; config: GatewayConfig }> {
  const { configFile } = projectPaths(dir);
  const document = parseConfigDocument(await readConfigText(configFile, dir), configFile);
  return { document, config: checkConfig(document.toJS(), configFile, dir) };
}

/** Schema, then the checks that look at the disk (mount paths). */
export function checkConfig(raw: unknown, source: string, dir: string): GatewayConfig {
  const config = parseConfig(raw, source);
  const mountIssues = checkServerMounts(config, projectPaths(dir).dir);
  if (mountIssues.length > 0) {
    throw new GatewayError(
      'ERR_CONFIG_INVALID',
      `${source} is invalid:\n  ${mountIssues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n  ')}`,
      {
        hint: "servers.NAME.mounts lists existing directories or files the server may use; the gateway's .secrets/, store and config are never granted",
      },
    );
  }
  return config;
}

async function readConfigText(configFile: string, dir: string): Promise<string> {
  try {
    return await readFile(configFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new GatewayError('ERR_CONFIG_NOT_FOUND', `no gateway config at ${configFile}`, {
        hint: `run \`mcp-gateway init --dir ${dir}\` first, or pass --dir pointing at an initialised project`,
      });
    }
    if (code === 'ENOTDIR') {
      throw new GatewayError('ERR_CONFIG_NOT_FOUND', `${dir} is not a directory`, {
        hint: 'pass --dir pointing at the project directory that holds mcp-gateway.yaml',
      });
    }
    if (code === 'EISDIR') {
      throw new GatewayError('ERR_CONFIG_INVALID', `${configFile} is a directory, not a file`, {
        hint: 'remove or rename that directory, then run `mcp-gateway init` to write the config',
      });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new GatewayError('ERR_CONFIG_INVALID', `${configFile} cannot be read by this user`, {
        hint: 'run the command as the user who owns the project, or make the file readable (chmod 644)',
      });
    }
    throw err;
  }
}
