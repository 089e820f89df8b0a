import { urlText } from '../../runtime/config/config-codecs.js';
import { createGitHubUpstream, resolveGitHubUrls } from '../../runtime/auth/upstream/github-upstream.js';
import { parseDuration, DURATION_HINT } from '../../runtime/config/duration.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths, type ProjectPaths } from '../../runtime/config/project-paths.js';
import { GITHUB_ORG, type GatewayConfig, type GitHubProviderConfig } from '../../runtime/config/schema.js';
import { GatewayError } from '../../runtime/errors.js';
import { appNameProblem, appSettingsUrl, buildAppManifest, defaultAppName, oauthAppFormUrl } from '../github/app-manifest.js';
import { convertManifestCode, type RegisteredGitHubApp } from '../github/manifest-conversion.js';
import { runManifestFlow } from '../github/manifest-flow.js';
import { saveGitHubCredentials } from '../github/save-github-credentials.js';
import { dirArg } from '../dir-arg.js';
import { ensureGitignore } from '../gitignore.js';
import { openInBrowser } from '../open-browser.js';
import { processOutput, type CliOutput } from '../output.js';
import { inquirerPrompter, isInteractiveTerminal, type Prompter } from '../prompter.js';

export interface GitHubRegisterOptions {
  dir: string;
  /** GitHub Enterprise Server base URL; default the config's provider.url. */
  githubUrl?: string | undefined;
  /** Register the app for this organization instead of the personal account. */
  org?: string | undefined;
  /** The app's name; default `mcp-gateway-<host>`. */
  name?: string | undefined;
  /** Open the local page in a browser (default true; `--no-open`). */
  open?: boolean | undefined;
  /** How long to wait for GitHub, e.g. `10m`. */
  timeout?: string | undefined;
  /** Print the values for GitHub's OAuth-app form and check the credentials pasted back instead. */
  manual?: boolean | undefined;
  githubClientId?: string | undefined;
  githubClientSecret?: string | undefined;
  /** Replace the app already configured. */
  force?: boolean | undefined;
}

export interface GitHubRegisterDeps {
  output: CliOutput;
  /** Whether `--manual` may ask for the credentials; ignored when both are given. */
  interactive: boolean;
  prompter: Prompter;
  fetch: typeof fetch;
  openBrowser: (url: string) => void;
}

const DEFAULT_TIMEOUT = '10m';
const SECRETS_IGNORED = ['.secrets/', '.mcp-gateway/'] as const;

/**
 * `mcp-gateway github register`: creates the GitHub App that users log in with, through GitHub's
 * app-manifest flow, and stores its credentials (secrets in `.secrets/`, 0600; client id and
 * GitHub URL in mcp-gateway.yaml). `--manual`: the operator creates an OAuth app on GitHub's
 * form, and the credentials pasted back are checked with GitHub before they are stored.
 */
export async function runGitHubRegister(options: GitHubRegisterOptions, deps: Partial<GitHubRegisterDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  const timeoutMs = parseDuration(options.timeout ?? DEFAULT_TIMEOUT);
  if (timeoutMs === undefined) throw new GatewayError('ERR_USAGE', `--timeout ${options.timeout} is not a duration`, { hint: DURATION_HINT });
  if (options.org !== undefined && !GITHUB_ORG.test(options.org)) {
    throw new GatewayError('ERR_USAGE', `--org ${options.org} is not a GitHub organization login`, {
      hint: 'pass the organization as it appears in its URL, e.g. --org acme',
    });
  }
  const nameProblem = options.name === undefined ? undefined : appNameProblem(options.name);
  if (nameProblem) throw new GatewayError('ERR_USAGE', `--name ${nameProblem}`, { hint: 'e.g. --name acme-mcp-gateway' });
  if (!options.manual && options.githubClientId !== undefined) {
    throw new GatewayError('ERR_USAGE', '--github-client-id is for --manual', {
      hint: 'without --manual the app and its credentials are created on GitHub for you',
    });
  }

  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  const provider = githubProvider(config, paths);
  if (provider.clientId !== undefined && !options.force) {
    throw new GatewayError('ERR_CONFIG_EXISTS', `a GitHub app is already configured (provider.clientId ${provider.clientId})`, {
      hint: `pass --force to replace it (then delete the old app in your GitHub settings), or keep it and run \`mcp-gateway serve${dirArg(paths.dir)}\``,
    });
  }
  let webBaseUrl: string;
  let apiBaseUrl: string;
  try {
    ({ webBaseUrl, apiBaseUrl } = resolveGitHubUrls(options.githubUrl ?? urlText(provider.url)));
  } catch (err) {
    throw new GatewayError('ERR_USAGE', `--github-url: ${(err as Error).message}`, {
      hint: 'e.g. --github-url https://github.example.com (GitHub Enterprise Server); github.com needs none',
    });
  }
  const target = { paths, config, provider, webBaseUrl, apiBaseUrl, name: options.name ?? defaultAppName(config.publicUrl), org: options.org };
  const fetchImpl = deps.fetch ?? globalThis.fetch;
  if (options.manual) {
    const canAsk = deps.interactive ?? isInteractiveTerminal();
    return registerManually(target, options, { output, fetch: fetchImpl, prompter: canAsk ? (deps.prompter ?? inquirerPrompter) : undefined });
  }
  return registerFromManifest(target, {
    output,
    fetch: fetchImpl,
    timeoutMs,
    timeout: options.timeout ?? DEFAULT_TIMEOUT,
    open: options.open !== false ? (deps.openBrowser ?? openInBrowser) : undefined,
  });
}

interface Target {
  paths: ProjectPaths;
  config: GatewayConfig;
  provider: GitHubProviderConfig;
  webBaseUrl: string;
  apiBaseUrl: string;
  name: string;
  org: string | undefined;
}

function githubProvider(config: GatewayConfig, paths: ProjectPaths): GitHubProviderConfig {
  if (config.provider.type === 'github') return config.provider;
  throw new GatewayError('ERR_CONFIG_INVALID', `provider.type is ${config.provider.type}, so users do not log in with GitHub`, {
    hint: `github register is for a GitHub login: \`mcp-gateway init${dirArg(paths.dir)} --force --provider github\` switches to one (the signing key is kept)`,
  });
}

async function registerFromManifest(
  t: Target,
  {
    output,
    fetch: fetchImpl,
    timeoutMs,
    timeout,
    open,
  }: { output: CliOutput; fetch: typeof fetch; timeoutMs: number; timeout: string; open: ((url: string) => void) | undefined },
): Promise<void> {
  const needsMembership = t.provider.orgs.length + t.provider.teams.length > 0;
  const owner = t.org === undefined ? 'your personal account' : `the organization ${t.org}`;
  let written: string[] = [];
  const app = await runManifestFlow<RegisteredGitHubApp>({
    webBaseUrl: t.webBaseUrl,
    org: t.org,
    timeoutMs,
    manifest: (redirectUrl) => buildAppManifest({ name: t.name, publicUrl: t.config.publicUrl, redirectUrl, needsMembership }),
    onReady: (startUrl) => {
      output.stdout(
        [
          `Creating the GitHub App "${t.name}" for ${t.config.publicUrl.origin} on ${t.webBaseUrl} (owned by ${owner}).`,
          open
            ? 'Opening this page in your browser (if it does not open, open it yourself in a browser signed in to GitHub):'
            : 'Open this page in a browser signed in to GitHub:',
          `  ${startUrl}`,
          `Then click "Create GitHub App" on GitHub. Waiting up to ${timeout}; nothing is saved until GitHub answers.`,
          '',
        ].join('\n'),
      );
      open?.(startUrl);
    },
    complete: async (code) => {
      const created = await convertManifestCode({ apiBaseUrl: t.apiBaseUrl, code, fetch: fetchImpl });
      try {
        written = await saveGitHubCredentials(t.paths, t.config, {
          clientId: created.clientId,
          clientSecret: created.clientSecret,
          githubUrl: t.webBaseUrl,
          privateKey: created.pem,
          webhookSecret: created.webhookSecret,
        });
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        // The app exists on GitHub now; its secret cannot be fetched again, so say what to clean up.
        throw new GatewayError(err.code, `the GitHub App "${created.name}" was created, but its credentials could not be saved: ${err.message}`, {
          hint: `${err.hint ? `${err.hint}; then ` : ''}delete the app at ${appSettingsUrl(t.webBaseUrl, t.org, created.slug)} and run \`mcp-gateway github register\` again`,
          cause: err,
        });
      }
      return created;
    },
    describe: (created) => `The GitHub App "${created.name}" was created and its credentials were saved in the project.`,
  });
  const gitignore = await ensureGitignore(t.paths.gitignore, SECRETS_IGNORED);

  const lines = [
    `Created the GitHub App "${app.name}" (id ${app.id}${app.owner ? `, owner ${app.owner}` : ''}, client id ${app.clientId}): ${appSettingsUrl(t.webBaseUrl, t.org, app.slug)}`,
    ...written.map((path) => `  wrote   ${path}${describeFile(path)}`),
    ...(gitignore === 'unchanged' ? [] : [`  ${gitignore} .gitignore (ignores ${SECRETS_IGNORED.join(' and ')})`]),
    '',
    `Users log in at ${t.config.publicUrl.origin}; GitHub sends them back to ${new URL('/callback', t.config.publicUrl).href}.`,
    'The private key and webhook secret are stored for later use; the gateway does not use them yet (the app has no webhook).',
    ...(needsMembership ? membershipAdvice(app, t) : []),
    '',
    'Next:',
    `  mcp-gateway serve${dirArg(t.paths.dir)}`,
  ];
  output.stdout(`${lines.join('\n')}\n`);
}

/** Org/team rules read memberships with the user's token, which sees only organizations the app is installed on. */
function membershipAdvice(app: RegisteredGitHubApp, t: Target): string[] {
  const orgs = [...new Set([...t.provider.orgs, ...t.provider.teams.map((team) => team.split('/')[0]!)])];
  const install = app.htmlUrl ? `${app.htmlUrl.replace(/\/+$/, '')}/installations/new` : appSettingsUrl(t.webBaseUrl, t.org, app.slug);
  return [
    `Org and team rules (${orgs.join(', ')}): the app asks for read access to organization members, and must be installed on each of`,
    `those organizations to see them: ${install}`,
    ...(t.org === undefined ? ["A private app can only be installed on its owner's account: for organizations, register it with --org ORG."] : []),
    "GitHub App user tokens expire after 8 hours: members then log in again when their membership is re-checked, unless token expiration is turned off in the app's settings (Optional features).",
  ];
}

function describeFile(path: string): string {
  if (path.endsWith('github-app.pem')) return " (mode 0600; the app's private key)";
  if (path.startsWith('.secrets')) return ' (mode 0600)';
  if (path === 'mcp-gateway.yaml') return ' (provider.clientId and provider.url)';
  return '';
}

async function registerManually(
  t: Target,
  options: GitHubRegisterOptions,
  { output, fetch: fetchImpl, prompter }: { output: CliOutput; fetch: typeof fetch; prompter: Prompter | undefined },
): Promise<void> {
  const origin = t.config.publicUrl.origin;
  output.stdout(
    [
      `Register an OAuth app for the gateway on GitHub${t.org === undefined ? '' : ` (organization ${t.org})`}:`,
      `  open                        ${oauthAppFormUrl(t.webBaseUrl, t.org)}`,
      `  Application name            ${t.name}`,
      `  Homepage URL                ${origin}`,
      `  Authorization callback URL  ${origin}/callback`,
      '  Enable Device Flow          leave unchecked',
      'Click "Register application", copy the Client ID, then "Generate a new client secret".',
      ...(t.provider.orgs.length + t.provider.teams.length > 0
        ? ['(Org and team rules: an organization that restricts OAuth apps must approve this one.)']
        : []),
      '',
    ].join('\n'),
  );

  const missing: string[] = [];
  const notAsked = (flag: string): string => {
    missing.push(flag);
    return '';
  };
  const clientId =
    nonEmpty(options.githubClientId) ??
    (prompter
      ? await prompter.input({ message: 'Client ID', validate: (v) => (headerSafe(v.trim()) ? true : 'paste the Client ID shown by GitHub') })
      : notAsked('--github-client-id'));
  const clientSecret =
    nonEmpty(options.githubClientSecret) ??
    (prompter
      ? await prompter.password({
          message: 'Client secret (stored in .secrets/, never in the YAML)',
          validate: (v) => (headerSafe(v.trim()) ? true : 'paste the client secret GitHub generated'),
        })
      : notAsked('--github-client-secret (or env MCP_GATEWAY_GITHUB_CLIENT_SECRET)'));
  if (missing.length > 0) {
    throw new GatewayError('ERR_USAGE', `github register --manual needs ${missing.join(' and ')} when it cannot ask`, {
      hint: 'e.g. MCP_GATEWAY_GITHUB_CLIENT_SECRET=... mcp-gateway github register --manual --github-client-id Ov23li...',
    });
  }
  if (!headerSafe(clientId) || !headerSafe(clientSecret)) {
    throw new GatewayError('ERR_USAGE', 'the client id or secret contains spaces or control characters', {
      hint: "copy them again from the app's page on GitHub",
    });
  }

  // Before anything is written: GitHub tells right credentials from wrong ones without a user login.
  await createGitHubUpstream({ baseUrl: t.webBaseUrl, clientId, clientSecret, fetch: fetchImpl }).checkClientCredentials();
  const written = await saveGitHubCredentials(t.paths, t.config, { clientId, clientSecret, githubUrl: t.webBaseUrl });
  const gitignore = await ensureGitignore(t.paths.gitignore, SECRETS_IGNORED);
  const lines = [
    `GitHub accepted the client id and secret of ${clientId}.`,
    ...written.map((path) => `  wrote   ${path}${describeFile(path)}`),
    ...(gitignore === 'unchanged' ? [] : [`  ${gitignore} .gitignore (ignores ${SECRETS_IGNORED.join(' and ')})`]),
    '',
    'Next:',
    `  mcp-gateway serve${dirArg(t.paths.dir)}`,
  ];
  output.stdout(`${lines.join('\n')}\n`);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function headerSafe(value: string): boolean {
  return /^[\x21-\x7e]{1,512}$/.test(value);
}
