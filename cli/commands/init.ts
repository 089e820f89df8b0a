import { Option } from 'commander';
import type * as action from '../actions/init.js';
import { commaList, dirOption, jsonOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { urlFlag } from '../url-flag.js';

/** `mcp-gateway init`: mcp-gateway.yaml, the client secret and a signing key. */
export const runInit: typeof action.runInit = async (...args) => (await import('../actions/init.js')).runInit(...args);

export const initCommand = defineCommand({
  name: 'init',
  group: 'Getting started',
  description: 'Create mcp-gateway.yaml, the GitHub client secret and a token signing key in a project directory',
  options: [
    dirOption(),
    new Option('-y, --yes', 'never ask: a missing required value is an error (for scripts and CI)'),
    new Option(
      '--force',
      'replace an existing mcp-gateway.yaml: its servers and the signing key are kept (issued tokens stay valid), the old file is saved as mcp-gateway.yaml.bak',
    ),
    new Option('--reset-servers', 'with --force: start without servers instead of keeping the configured ones'),
    new Option('--public-url <url>', 'the URL clients connect to; https, or http on a loopback host (e.g. http://127.0.0.1:8080)').argParser(urlFlag),
    new Option(
      '--provider <type>',
      'how users log in: github (a GitHub App or OAuth app; the default), oidc (any OpenID Connect provider) or local (a one-time code printed by the gateway)',
    ).choices(['github', 'oidc', 'local']),
    new Option('--github-client-id <id>', 'client ID of your GitHub OAuth app or GitHub App (omit to run `mcp-gateway github register` next)'),
    new Option(
      '--github-client-secret <secret>',
      'client secret of your GitHub OAuth app; prefer the environment variable, which stays out of shell history',
    ).env('MCP_GATEWAY_GITHUB_CLIENT_SECRET'),
    new Option('--github-url <url>', 'GitHub base URL, for GitHub Enterprise Server (default: https://github.com)').argParser(urlFlag),
    new Option(
      '--allowed-users <logins>',
      'comma-separated logins that may sign in, e.g. alice,bob (OpenID Connect: verified email addresses or subjects)',
    ).argParser(commaList),
    new Option('--github-orgs <orgs>', 'comma-separated GitHub organizations whose members may sign in (asks GitHub for read:org)').argParser(commaList),
    new Option('--github-teams <teams>', 'comma-separated GitHub teams as org/team-slug whose members may sign in').argParser(commaList),
    new Option('--oidc-issuer <url>', 'OpenID Connect issuer URL, with --provider oidc (e.g. https://accounts.google.com)').argParser(urlFlag),
    new Option('--oidc-client-id <id>', 'client ID registered at the OpenID provider'),
    new Option('--oidc-client-secret <secret>', 'client secret at the OpenID provider; omit for a public client').env('MCP_GATEWAY_OIDC_CLIENT_SECRET'),
    new Option('--email-domains <domains>', 'comma-separated domains whose verified addresses may sign in (OpenID Connect)').argParser(commaList),
    new Option('--listen <host:port>', 'address the gateway listens on; a port alone is 127.0.0.1:PORT (default: derived from the public URL by serve)'),
    new Option(
      '--domain <domain>',
      "the Docker deployment's domain: public URL https://DOMAIN unless --public-url, and the base of NAME.DOMAIN with --routing subdomain",
    ),
    new Option('--email <email>', "Let's Encrypt account e-mail for Traefik's certificates (deploy.email)"),
    new Option(
      '--router <router>',
      "Docker deployment: traefik (HTTPS with Let's Encrypt; the default) or builtin (our router, plain HTTP behind your own TLS)",
    ).choices(['traefik', 'builtin']),
    new Option('--routing <style>', 'where each server lives: path (https://DOMAIN/NAME/mcp; the default) or subdomain (https://NAME.DOMAIN/mcp)').choices([
      'path',
      'subdomain',
    ]),
    jsonOption('{ dir, configFile, publicUrl, provider, changes, serversKept, serversDropped, next }; never asks, like --yes'),
  ],
  notes: `Without --yes, init asks for missing values when run in a terminal. The client secret is written to
.secrets/github-client-secret (mode 0600), never to mcp-gateway.yaml or the screen; a new signing key goes to
.secrets/signing-keys.json. The project's .gitignore is made to ignore .secrets/ and .mcp-gateway/.`,
  examples: [
    'mcp-gateway init',
    'MCP_GATEWAY_GITHUB_CLIENT_SECRET=... mcp-gateway init --yes --dir ./gw \\',
    '    --public-url https://mcp.example.com --github-client-id Iv1.0123abcd --allowed-users alice,bob',
    'mcp-gateway init --yes --provider local --public-url http://127.0.0.1:8080 --allowed-users alice',
    'mcp-gateway init --yes --domain mcp.example.com --email ops@example.com --github-client-id Iv1.0123abcd --allowed-users alice',
  ],
  action: (_, flags: Flags<action.InitOptions>, { output }) => runInit({ ...flags, dir: projectDir(flags) }, { output }),
});
