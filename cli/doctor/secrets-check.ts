import { urlText } from '../../runtime/config/config-codecs.js';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { quote } from 'shell-quote';
import { keySetFromJson } from '../../runtime/auth/tokens/signing-keys.js';
import { serverHeadersPath } from '../../runtime/config/server-headers.js';
import { isGatewayError } from '../../runtime/errors.js';
import { githubSecretHint } from '../../runtime/config/github-client-id.js';
import { worst, type CheckResult, type CheckStatus, type DoctorContext } from './doctor-check.js';

/** One secret file the project needs (or may have), and how to tell it is usable. */
interface SecretFile {
  path: string;
  what: string;
  required: boolean;
  /** The command that (re)creates it. */
  missingFix: string;
  /** A problem with the content, with its fix; undefined when the content is usable. */
  validate?(text: string): Promise<{ problem: string; fix: string } | undefined>;
}

interface Finding {
  status: CheckStatus;
  text: string;
  fix?: string;
}

/**
 * The project's secrets: present when the config needs them, not readable by other users (the
 * runtimes refuse such files, ERR_SECRET_UNSAFE), and holding what they should. Files are read
 * here whatever their mode, so one run reports every problem, not only the first.
 */
export async function checkSecrets({ paths, config }: DoctorContext): Promise<CheckResult> {
  const dirArg = `--dir ${quote([paths.dir])}`;
  const files: SecretFile[] = [
    {
      path: paths.signingKeys,
      what: 'token signing keys',
      required: true,
      missingFix: `mcp-gateway init ${dirArg} --force ... (writes a new signing key when there is none)`,
      validate: async (text) => {
        try {
          await keySetFromJson(text, { source: paths.signingKeys });
          return undefined;
        } catch (err) {
          if (!isGatewayError(err)) throw err;
          return { problem: err.message, fix: err.hint ?? `mcp-gateway init ${dirArg} --force` };
        }
      },
    },
    {
      path: paths.stateKey,
      what: 'state key',
      // Created on first start (runtime/config/state-key.ts), so absence is normal before then.
      required: false,
      missingFix: '',
      validate: async (text) =>
        Buffer.from(text.trim(), 'base64url').length === 32
          ? undefined
          : {
              problem: `${paths.stateKey} does not hold a 32-byte key`,
              fix: `rm ${quote([paths.stateKey])} (a new one is created on the next start; users admitted by org/team membership log in again)`,
            },
    },
  ];
  if (config.provider.type === 'github') {
    files.push({
      path: paths.githubClientSecret,
      what: 'GitHub client secret',
      required: true,
      missingFix: githubSecretHint(paths.dir),
      validate: async (text) => (text.trim() === '' ? { problem: `${paths.githubClientSecret} is empty`, fix: githubSecretHint(paths.dir) } : undefined),
    });
  }
  if (config.provider.type === 'oidc') {
    // Absent: the gateway is a public client of the provider (PKCE only).
    files.push({ path: paths.oidcClientSecret, what: 'OpenID Connect client secret', required: false, missingFix: '' });
  }
  if (config.store.type === 'redis') {
    files.push({ path: paths.redisPassword, what: 'Redis password', required: false, missingFix: '' });
  }
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('url' in server) || (server.headers ?? []).length === 0) continue;
    const path = serverHeadersPath(paths, name);
    const rewrite = `mcp-gateway add-server ${name} ${dirArg} --url ${quote([urlText(server.url)])} ${(server.headers ?? []).map((h) => `--header ${quote([`${h}=...`])}`).join(' ')} --force`;
    files.push({
      path,
      what: `header values of server ${name}`,
      required: true,
      missingFix: rewrite,
      validate: async (text) => {
        const parsed = parseObject(text);
        const missing = (server.headers ?? []).filter((h) => !Object.keys(parsed ?? {}).some((k) => k.toLowerCase() === h.toLowerCase()));
        if (parsed === undefined) return { problem: `${path} is not a JSON object`, fix: rewrite };
        return missing.length === 0 ? undefined : { problem: `${path} has no value for ${missing.join(', ')}`, fix: rewrite };
      },
    });
  }

  const findings: Finding[] = [];
  const present: string[] = [];
  for (const file of files) {
    const finding = await inspect(file);
    if (finding === undefined) present.push(file.what);
    else findings.push(finding);
  }
  findings.push(...(await inspectDirectory(paths.secretsDir, new Set(files.map((f) => f.path)))));

  const status = worst(findings.map((f) => f.status));
  const shown = (path: string): string => relative(paths.dir, path) || path;
  if (findings.length === 0) {
    return { name: 'secrets', status: 'pass', detail: `${present.join(', ')}: present, mode 0600 (in ${shown(paths.secretsDir)}/)` };
  }
  const fixes = [...new Set(findings.map((f) => f.fix).filter((f): f is string => f !== undefined && f !== ''))];
  const detail = findings.map((f) => f.text).join('; ');
  return fixes.length === 0 ? { name: 'secrets', status, detail } : { name: 'secrets', status, detail, fix: fixes.join('\n') };
}

async function inspect(file: SecretFile): Promise<Finding | undefined> {
  let mode: number;
  try {
    mode = (await stat(file.path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      return { status: 'fail', text: `cannot read the ${file.what} (${file.path}): ${(err as Error).message}` };
    return file.required ? { status: 'fail', text: `missing: the ${file.what} (${file.path})`, fix: file.missingFix } : undefined;
  }
  if ((mode & 0o077) !== 0) {
    return {
      status: 'fail',
      text: `${file.path} is readable by other users (mode ${octal(mode)}); the gateway refuses to use it`,
      fix: `chmod 600 ${quote([file.path])}`,
    };
  }
  const text = await readFile(file.path, 'utf8');
  const invalid = await file.validate?.(text);
  return invalid === undefined ? undefined : { status: 'fail', text: invalid.problem, fix: invalid.fix };
}

/**
 * The folder itself, and every other file in it (a GitHub App key, the admin token, whatever
 * later commands store there): a group- or world-accessible folder lets others list and replace
 * files, and any secret readable by others is a leak whether or not the config names it.
 */
async function inspectDirectory(dir: string, inspected: ReadonlySet<string>): Promise<Finding[]> {
  const findings: Finding[] = [];
  let entries: string[];
  try {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o077) !== 0)
      findings.push({ status: 'warn', text: `${dir} is accessible to other users (mode ${octal(mode)})`, fix: `chmod 700 ${quote([dir])}` });
    entries = await readdir(dir, { recursive: true });
  } catch {
    return findings;
  }
  for (const entry of entries.sort()) {
    const path = join(dir, entry);
    if (inspected.has(path)) continue;
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && (info.mode & 0o077) !== 0) {
      findings.push({ status: 'fail', text: `${path} is readable by other users (mode ${octal(info.mode)})`, fix: `chmod 600 ${quote([path])}` });
    }
  }
  return findings;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
