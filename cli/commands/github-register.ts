import { Option } from 'commander';
import type * as action from '../actions/github-register.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { urlFlag } from '../url-flag.js';

/** `mcp-gateway github register`: the GitHub App users log in with, by GitHub's app-manifest flow (or --manual). */
export const runGitHubRegister: typeof action.runGitHubRegister = async (...args) => (await import('../actions/github-register.js')).runGitHubRegister(...args);

export const githubCommand = defineCommand({
  name: 'github',
  group: 'Getting started',
  description: 'Set up the GitHub app that users log in with',
  subcommands: [
    defineCommand({
      name: 'register',
      description:
        "Create the GitHub App users log in with (GitHub's app-manifest flow, in your browser) and store its credentials; --manual checks and stores an OAuth app's instead",
      options: [
        dirOption(),
        new Option('--github-url <url>', 'GitHub Enterprise Server base URL (default: provider.url of the config, else https://github.com)').argParser(urlFlag),
        new Option('--org <org>', 'create the app for this organization instead of your personal account'),
        new Option('--name <name>', "the app's name, at most 34 characters (default: mcp-gateway-<host of the public URL>)"),
        new Option('--no-open', 'print the local URL to open instead of opening a browser'),
        new Option('--timeout <duration>', 'how long to wait for GitHub, e.g. 20m').default('10m'),
        new Option('--manual', "print the values for GitHub's OAuth-app form, then check and store the client id and secret pasted back"),
        new Option('--github-client-id <id>', 'with --manual: the client ID (asked for when omitted in a terminal)'),
        new Option('--github-client-secret <secret>', 'with --manual: the client secret; prefer the environment variable').env(
          'MCP_GATEWAY_GITHUB_CLIENT_SECRET',
        ),
        new Option('--force', 'replace the GitHub app already configured'),
      ],
      notes: `A local page on 127.0.0.1 posts the app's manifest to GitHub (no webhook, no permissions beyond
who the user is; organization members: read only with provider.orgs/teams); GitHub sends the
browser back with a one-time code, which becomes the app's credentials. The client secret, private
key and webhook secret go to .secrets/ (mode 0600), the client id to mcp-gateway.yaml.`,
      examples: [
        'mcp-gateway github register --dir ./gw',
        'mcp-gateway github register --org acme --no-open',
        'mcp-gateway github register --github-url https://github.example.com',
        'MCP_GATEWAY_GITHUB_CLIENT_SECRET=... mcp-gateway github register --manual --github-client-id Ov23li...',
      ],
      action: (_, flags: Flags<action.GitHubRegisterOptions>, { output }) => runGitHubRegister({ ...flags, dir: projectDir(flags) }, { output }),
    }),
  ],
});
