import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { access, chmod, mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { GatewayError, isGatewayError } from '../../runtime/errors.js';
import { formatIssues } from '../../runtime/config/config-issues.js';
import { validUrlAnswer } from '../url-flag.js';
import { parseConfig } from '../../runtime/config/load-config.js';
import { projectPaths, type ProjectPaths } from '../../runtime/config/project-paths.js';
import { withProjectLock } from '../../runtime/config/project-lock.js';
import { configSchema, type GatewayConfig, type GatewayConfigInput } from '../../runtime/config/schema.js';
import { SECRET_DIR_MODE, writeSecret } from '../../runtime/config/secrets.js';
import { writeConfig } from '../../runtime/config/write-config.js';
import { loadKeySet, writeNewKeyFile } from '../../runtime/auth/tokens/signing-keys.js';
import { applyCommand, projectRunner } from '../deployment-advice.js';
import { dirArg } from '../dir-arg.js';
import { urlText } from '../../runtime/config/config-codecs.js';
import { readPreviousConfig, resetSettings, type PreviousConfig } from '../init-previous-config.js';
import { ensureGitignore, type GitignoreChange } from '../gitignore.js';
import { processOutput, type CliOutput } from '../output.js';
import { inquirerPrompter, isInteractiveTerminal, type Prompter } from '../prompter.js';

export type ProviderType = 'github' | 'local' | 'oidc';

/** What `init --json` prints. */
export interface InitResult {
  dir: string;
  configFile: string;
  publicUrl: string;
  provider: ProviderType;
  allowedUsers: string[];
  changes: InitChange[];
  /** With --force: the servers carried over from the replaced file, or dropped by --reset-servers. */
  serversKept: string[];
  serversDropped: string[];
  /** The commands to run next, in order. */
  next: string[];
}

/** One thing init did to the project, for the summary and `--json`. */
export interface InitChange {
  action: 'wrote' | 'kept' | 'created' | 'updated' | 'dropped' | 'reset';
  what: string;
  note?: string;
}

export interface InitOptions {
  dir: string;
  /** Never ask; a missing required value is a usage error. */
  yes?: boolean | undefined;
  /** Overwrite an existing mcp-gateway.yaml (the signing key file is kept). */
  force?: boolean | undefined;
  /** Print the result as one JSON document (InitResult); never asks. */
  json?: boolean | undefined;
  /** With --force: start without servers instead of keeping the previous config's. */
  resetServers?: boolean | undefined;
  publicUrl?: string | undefined;
  provider?: ProviderType | undefined;
  githubClientId?: string | undefined;
  githubClientSecret?: string | undefined;
  githubUrl?: string | undefined;
  allowedUsers?: string[] | undefined;
  /** GitHub organizations / `org/team` teams whose members may log in. */
  githubOrgs?: string[] | undefined;
  githubTeams?: string[] | undefined;
  oidcIssuer?: string | undefined;
  oidcClientId?: string | undefined;
  /** Absent: a public client (PKCE only). */
  oidcClientSecret?: string | undefined;
  /** OpenID Connect: verified addresses in these domains may log in. */
  emailDomains?: string[] | undefined;
  listen?: string | undefined;
  /** Docker deployment: the public host (publicUrl https://DOMAIN unless --public-url) and base of NAME.<domain>. */
  domain?: string | undefined;
  /** Let's Encrypt account e-mail (deploy.email). */
  email?: string | undefined;
  router?: 'traefik' | 'builtin' | undefined;
  routing?: 'path' | 'subdomain' | undefined;
}

export interface InitDeps {
  output: CliOutput;
  /** Whether questions may be asked; ignored (false) when `yes` is set. */
  interactive: boolean;
  prompter: Prompter;
  /** Runs `github register` right after init, when the person chose to create the GitHub App now. */
  registerGitHubApp: (dir: string) => Promise<void>;
}

/** How a GitHub provider gets its client credentials. */
type GitHubCredentialsChoice = 'register-now' | 'enter' | 'register-later';

export const DEFAULT_GITHUB_URL = 'https://github.com';
export const GITIGNORE_ENTRIES = ['.secrets/', '.mcp-gateway/'] as const;

interface Answers {
  publicUrl: string;
  provider: ProviderType;
  allowedUsers: string[];
  /** Empty: no app yet (`github register` creates one). */
  githubClientId: string;
  githubClientSecret: string;
  githubCredentials: GitHubCredentialsChoice;
  githubUrl: string;
  githubOrgs: string[];
  githubTeams: string[];
  oidcIssuer: string;
  oidcClientId: string;
  oidcClientSecret: string | undefined;
  emailDomains: string[];
  listen: string | undefined;
  deploy: Pick<InitOptions, 'domain' | 'email' | 'router' | 'routing'>;
}

export async function runInit(options: InitOptions, deps: Partial<InitDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  // --json output is for scripts: it never asks, as --yes (a question would land in the JSON).
  const canAsk = !options.yes && !options.json && (deps.interactive ?? isInteractiveTerminal());
  const prompter = canAsk ? (deps.prompter ?? inquirerPrompter) : undefined;
  const paths = projectPaths(options.dir);

  if ((await exists(paths.configFile)) && !options.force) {
    throw new GatewayError('ERR_CONFIG_EXISTS', `${paths.configFile} already exists`, {
      hint: 'edit it, or pass --force to overwrite it (the signing key is kept, so tokens already issued stay valid)',
    });
  }
  // An existing key file is kept so issued tokens stay valid; refuse now, before anything is
  // written, if it is unreadable or readable by others rather than carry it forward.
  const keepKeys = await exists(paths.signingKeys);
  if (keepKeys) await loadKeySet(paths.signingKeys);

  const answers = await collectAnswers(options, prompter);
  // Checked before anything is written; the servers a --force keeps are checked again with them.
  parseConfig(toConfigInput(answers, {}), 'the configuration to write');
  await makeProjectDir(paths.dir);
  // The old file is read under the project lock, so an add-server running meanwhile is kept too.
  const { config, written, previous } = await withProjectLock(paths.dir, () =>
    writeProject(paths, answers, { keepKeys, resetServers: options.resetServers === true }),
  );

  const dir = dirArg(paths.dir);
  const unregistered = config.provider.type === 'github' && config.provider.clientId === undefined;
  const runner = await projectRunner(config, paths);
  const next = [
    ...(unregistered ? [`mcp-gateway github register${dir}`] : []),
    ...(previous !== undefined && previous.kept.length > 0 ? [] : [`mcp-gateway add-server time${dir}`]),
    applyCommand(runner, paths.dir),
  ];
  if (options.json) {
    const result: InitResult = {
      dir: paths.dir,
      configFile: paths.configFile,
      publicUrl: urlText(config.publicUrl),
      provider: config.provider.type,
      allowedUsers: config.allowedUsers,
      changes: written,
      serversKept: previous?.kept ?? [],
      serversDropped: previous?.dropped ?? [],
      next,
    };
    output.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const lines = [
    `Initialised the gateway in ${paths.dir}`,
    ...written.map((change) => `  ${changeLine(change)}`),
    '',
    `Public URL: ${config.publicUrl.origin}`,
    config.provider.type === 'github'
      ? `Login: GitHub (${answers.githubUrl}), allowed: ${describeAllowed(config.allowedUsers, answers.githubOrgs, answers.githubTeams)}\n` +
        (unregistered
          ? 'No GitHub app yet: `mcp-gateway github register` creates one (serve refuses to start until then)'
          : `The GitHub app's "Authorization callback URL" must be ${gatewayUrls(config).callback}`)
      : config.provider.type === 'local'
        ? `Login: a one-time code printed in the terminal of \`mcp-gateway serve\`, signing in as ${config.provider.user}`
        : `Login: OpenID Connect (${config.provider.issuer}); register ${gatewayUrls(config).callback} as its redirect URI`,
    '',
    'Next steps:',
    ...(unregistered && answers.githubCredentials !== 'register-now'
      ? [`  mcp-gateway github register${dir}    create the GitHub App users log in with (--manual: an OAuth app you create yourself)`]
      : []),
    `  mcp-gateway add-server time${dir}    add ${previous !== undefined && previous.kept.length > 0 ? 'another' : 'an'} MCP server (\`mcp-gateway add-server --help\` lists the catalog)`,
    runner === 'up'
      ? `  mcp-gateway up${dir}                 start the Docker deployment (${config.deploy.router === 'traefik' ? "Traefik with Let's Encrypt" : 'the built-in router'}, ${config.deploy.routing} routing)`
      : `  mcp-gateway serve${dir}              start the gateway`,
  ];
  output.stdout(`${lines.join('\n')}\n`);

  if (unregistered && answers.githubCredentials === 'register-now') {
    output.stdout('\n');
    await (deps.registerGitHubApp ?? registerWithGitHub(output))(paths.dir);
  }
}

/**
 * Secrets and keys first, the config last: the project counts as initialised only once
 * mcp-gateway.yaml exists, so a failure part-way leaves something `init` can simply rerun.
 */
async function writeProject(
  paths: ProjectPaths,
  answers: Answers,
  { keepKeys, resetServers }: { keepKeys: boolean; resetServers: boolean },
): Promise<{ config: GatewayConfig; written: InitChange[]; previous: PreviousConfig | undefined }> {
  const previous = await readPreviousConfig(paths, { resetServers });
  const input = toConfigInput(answers, previous?.servers ?? {});
  const checked = keptServersChecked(input, previous);
  const written: InitChange[] = [];
  if (answers.provider === 'github' && answers.githubClientId !== '') {
    await writeSecret(paths.githubClientSecret, `${answers.githubClientSecret}\n`);
    written.push({ action: 'wrote', what: '.secrets/github-client-secret', note: 'mode 0600' });
  }
  if (answers.provider === 'oidc' && answers.oidcClientSecret !== undefined) {
    await writeSecret(paths.oidcClientSecret, `${answers.oidcClientSecret}\n`);
    written.push({ action: 'wrote', what: '.secrets/oidc-client-secret', note: 'mode 0600' });
  }
  if (keepKeys) {
    written.push({ action: 'kept', what: '.secrets/signing-keys.json', note: 'tokens already issued stay valid' });
  } else {
    await writeNewKeyFile(paths.signingKeys);
    written.push({ action: 'wrote', what: '.secrets/signing-keys.json', note: 'mode 0600, a new ES256 signing key' });
  }
  await chmod(paths.secretsDir, SECRET_DIR_MODE);
  written.push(gitignoreChange(await ensureGitignore(paths.gitignore, GITIGNORE_ENTRIES)));
  await writeConfig(paths.dir, input);
  written.push({
    action: 'wrote',
    what: 'mcp-gateway.yaml',
    ...(previous === undefined ? {} : { note: `the previous one is saved as ${basename(previous.backup)}` }),
  });
  if (previous !== undefined && previous.kept.length > 0)
    written.push({ action: 'kept', what: `servers ${previous.kept.join(', ')}`, note: '--reset-servers drops them' });
  if (previous !== undefined && previous.dropped.length > 0)
    written.push({ action: 'dropped', what: `servers ${previous.dropped.join(', ')}`, note: '--reset-servers' });
  const reset = previous === undefined ? [] : resetSettings(previous, checked);
  if (previous !== undefined && reset.length > 0) {
    written.push({
      action: 'reset',
      what: reset.join(', '),
      note: `to the defaults: init does not ask about them; copy them back from ${basename(previous.backup)}`,
    });
  }
  return { config: checked, written, previous };
}

/** `github register` in this process, loaded only when chosen. */
function registerWithGitHub(output: CliOutput): (dir: string) => Promise<void> {
  return async (dir) => {
    const { runGitHubRegister } = await import('./github-register.js');
    await runGitHubRegister({ dir }, { output });
  };
}

async function collectAnswers(options: InitOptions, prompter: Prompter | undefined): Promise<Answers> {
  const missing: string[] = [];
  const ask = async (flag: string, question: (p: Prompter) => Promise<string>): Promise<string> => {
    if (prompter) return question(prompter);
    missing.push(flag);
    return '';
  };

  const domain = nonEmpty(options.domain);
  const publicUrl =
    nonEmpty(options.publicUrl) ??
    (domain === undefined ? undefined : `https://${domain}`) ??
    (await ask('--public-url (or --domain)', (p) =>
      p.input({ message: 'Public URL that clients connect to', default: 'http://127.0.0.1:8080', validate: (v) => checkField('publicUrl', v) }),
    ));

  const provider =
    options.provider ??
    (prompter
      ? await prompter.select<ProviderType>({
          message: 'How do users log in?',
          choices: [
            { value: 'github', name: 'GitHub', description: 'with a GitHub OAuth app; only the allowed GitHub logins get in' },
            { value: 'oidc', name: 'OpenID Connect', description: 'Google, GitLab, Keycloak, Auth0 or any OpenID provider' },
            { value: 'local', name: 'One-time code', description: 'a code printed in the gateway terminal; no GitHub app needed' },
          ],
          default: 'github',
        })
      : 'github');

  let githubClientId = '';
  let githubClientSecret = '';
  let githubCredentials: GitHubCredentialsChoice = 'enter';
  const githubUrl = nonEmpty(options.githubUrl) ?? DEFAULT_GITHUB_URL;
  if (provider === 'github') {
    const givenId = nonEmpty(options.githubClientId);
    const givenSecret = nonEmpty(options.githubClientSecret);
    // Neither credential given: the app can be created afterwards by `github register`, so
    // scripts may leave them out, and a person is asked how to get them.
    if (givenId === undefined && givenSecret === undefined) {
      githubCredentials = prompter
        ? await prompter.select<GitHubCredentialsChoice>({
            message: 'GitHub app credentials for the login',
            choices: [
              {
                value: 'register-now',
                name: 'Create a GitHub App now',
                description: 'opens GitHub in your browser (mcp-gateway github register); nothing to copy',
              },
              { value: 'enter', name: 'Enter a client ID and secret', description: 'of an OAuth app or GitHub App you already created' },
              { value: 'register-later', name: 'Later', description: 'run mcp-gateway github register before serve' },
            ],
            default: 'register-now',
          })
        : 'register-later';
    }
    if (githubCredentials === 'enter') {
      githubClientId =
        givenId ?? (await ask('--github-client-id', (p) => p.input({ message: 'GitHub app client ID', validate: (v) => (v.trim() ? true : 'required') })));
      githubClientSecret =
        givenSecret ??
        (await ask('--github-client-secret (or env MCP_GATEWAY_GITHUB_CLIENT_SECRET)', (p) =>
          p.password({ message: 'GitHub app client secret (stored in .secrets/, never in the YAML)', validate: (v) => (v.trim() ? true : 'required') }),
        ));
    }
  }

  let oidcIssuer = '';
  let oidcClientId = '';
  let oidcClientSecret: string | undefined;
  if (provider === 'oidc') {
    oidcIssuer =
      nonEmpty(options.oidcIssuer) ??
      (await ask('--oidc-issuer', (p) => p.input({ message: 'OpenID provider issuer URL (e.g. https://accounts.google.com)', validate: validUrlAnswer })));
    oidcClientId =
      nonEmpty(options.oidcClientId) ??
      (await ask('--oidc-client-id', (p) => p.input({ message: 'Client ID registered at the provider', validate: (v) => (v.trim() ? true : 'required') })));
    oidcClientSecret =
      nonEmpty(options.oidcClientSecret) ??
      (prompter
        ? nonEmpty(await prompter.password({ message: 'Client secret (leave empty for a public client; stored in .secrets/)', validate: () => true }))
        : undefined);
  }
  const githubOrgs = provider === 'github' ? (options.githubOrgs ?? []) : [];
  const githubTeams = provider === 'github' ? (options.githubTeams ?? []) : [];
  const emailDomains = provider === 'oidc' ? (options.emailDomains ?? []) : [];
  const groupRules = githubOrgs.length + githubTeams.length + emailDomains.length > 0;

  const usersQuestion =
    provider === 'github'
      ? 'GitHub logins allowed to use the gateway (comma-separated)'
      : provider === 'oidc'
        ? 'Email addresses (verified) or subjects allowed to use the gateway (comma-separated)'
        : 'Login name to sign in as (more can follow, comma-separated)';
  const allowedUsers =
    (options.allowedUsers && options.allowedUsers.length > 0) || (groupRules && !prompter)
      ? (options.allowedUsers ?? [])
      : splitLogins(
          await ask('--allowed-users', (p) =>
            p.input({ message: usersQuestion, validate: (v) => (groupRules && v.trim() === '' ? true : checkField('allowedUsers', splitLogins(v))) }),
          ),
        );

  if (missing.length > 0) {
    throw new GatewayError('ERR_USAGE', `init needs ${missing.join(', ')} when it cannot ask (--yes, or no interactive terminal)`, {
      hint:
        provider === 'oidc'
          ? 'e.g. mcp-gateway init --yes --provider oidc --public-url https://mcp.example.com --oidc-issuer https://accounts.google.com --oidc-client-id ID --email-domains example.com (secret in MCP_GATEWAY_OIDC_CLIENT_SECRET)'
          : provider === 'github'
            ? 'e.g. mcp-gateway init --yes --public-url https://mcp.example.com --allowed-users alice, then `mcp-gateway github register` creates the GitHub app; or pass both --github-client-id and the secret (MCP_GATEWAY_GITHUB_CLIENT_SECRET) of an existing app; or --provider local to skip GitHub'
            : 'e.g. mcp-gateway init --yes --provider local --public-url http://127.0.0.1:8080 --allowed-users alice',
    });
  }
  return {
    publicUrl,
    provider,
    allowedUsers,
    githubClientId,
    githubClientSecret,
    githubCredentials,
    githubUrl,
    githubOrgs,
    githubTeams,
    oidcIssuer,
    oidcClientId,
    oidcClientSecret,
    emailDomains,
    listen: nonEmpty(options.listen),
    deploy: {
      domain,
      ...(nonEmpty(options.email) === undefined ? {} : { email: nonEmpty(options.email) }),
      router: options.router,
      routing: options.routing,
    },
  };
}

function toConfigInput(answers: Answers, servers: Record<string, unknown>): GatewayConfigInput {
  return {
    version: 1,
    publicUrl: answers.publicUrl,
    listen: answers.listen,
    provider:
      answers.provider === 'github'
        ? {
            type: 'github',
            ...(answers.githubClientId === '' ? {} : { clientId: answers.githubClientId }),
            url: answers.githubUrl,
            ...(answers.githubOrgs.length > 0 ? { orgs: answers.githubOrgs } : {}),
            ...(answers.githubTeams.length > 0 ? { teams: answers.githubTeams } : {}),
          }
        : answers.provider === 'oidc'
          ? {
              type: 'oidc',
              issuer: answers.oidcIssuer,
              clientId: answers.oidcClientId,
              ...(answers.emailDomains.length > 0 ? { emailDomains: answers.emailDomains } : {}),
            }
          : // The one-time code signs in as one user; the first allowed login, so that login can get in.
            { type: 'local', user: answers.allowedUsers[0] ?? 'demo' },
    allowedUsers: answers.allowedUsers,
    ...(Object.keys(answers.deploy).length > 0 ? { deploy: answers.deploy } : {}),
    servers: servers as GatewayConfigInput['servers'],
  };
}

function describeAllowed(users: string[], orgs: string[], teams: string[]): string {
  const parts = [
    users.length > 0 ? `users ${users.join(', ')}` : '',
    orgs.length > 0 ? `members of ${orgs.join(', ')}` : '',
    teams.length > 0 ? `teams ${teams.join(', ')}` : '',
  ];
  return parts.filter(Boolean).join('; ');
}

/** Commas separate logins; blanks and repeats are dropped. */
export function splitLogins(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((login) => login.trim())
        .filter(Boolean),
    ),
  ];
}

/** The new config with the servers `init --force` keeps; a kept server the new config refuses is named, with the way out. */
function keptServersChecked(input: GatewayConfigInput, previous: PreviousConfig | undefined): GatewayConfig {
  try {
    return parseConfig(input, 'the configuration to write');
  } catch (err) {
    if (previous === undefined || previous.kept.length === 0 || !isGatewayError(err)) throw err;
    throw new GatewayError('ERR_CONFIG_INVALID', `${err.message}\n(servers kept from the previous mcp-gateway.yaml: ${previous.kept.join(', ')})`, {
      hint: 'fix those servers in the saved copy and init again, or pass --reset-servers to start without them',
      cause: err,
    });
  }
}

/** Asks the config schema itself about one field, so a prompt accepts exactly what the config will. */
function checkField(field: 'publicUrl' | 'allowedUsers', value: unknown): true | string {
  const sample: GatewayConfigInput = { publicUrl: 'http://127.0.0.1:8080', provider: { type: 'local' }, allowedUsers: ['someone'] };
  const result = configSchema.safeParse({ ...sample, [field]: value }, { reportInput: true });
  if (result.success) return true;
  const issues = result.error.issues.filter((issue) => issue.path[0] === field);
  return issues.length === 0 ? true : formatIssues(issues, configSchema).join('; ');
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function gitignoreChange(change: GitignoreChange): InitChange {
  const what = GITIGNORE_ENTRIES.join(' and ');
  switch (change) {
    case 'created':
      return { action: 'created', what: '.gitignore', note: `ignores ${what}` };
    case 'updated':
      return { action: 'updated', what: '.gitignore', note: `now ignores ${what}` };
    case 'unchanged':
      return { action: 'kept', what: '.gitignore', note: `already ignores ${what}` };
  }
}

/** One line of what init did: `wrote   mcp-gateway.yaml (note)`. */
function changeLine({ action, what, note }: InitChange): string {
  return `${action.padEnd(7)} ${what}${note === undefined ? '' : ` (${note})`}`;
}

/** The project directory, created if need be; a file in its place is the user's mistake, said as such. */
async function makeProjectDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
    throw new GatewayError('ERR_USAGE', `--dir ${dir} is a file, not a directory`, { hint: 'pass --dir with a new or existing directory for the project' });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
