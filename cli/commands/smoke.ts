import { Option } from 'commander';
import type * as action from '../actions/smoke.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { urlFlag } from '../url-flag.js';

export type { SmokeReport } from '../actions/smoke.js';

/** `mcp-gateway smoke`: every server checked end to end as a client would, with short-lived tokens. */
export const runSmoke: typeof action.runSmoke = async (...args) => (await import('../actions/smoke.js')).runSmoke(...args);

export const smokeCommand = defineCommand({
  name: 'smoke',
  group: 'Operate',
  description: 'Check every server end to end as a client would: 401 challenge, metadata, then initialize and tools/list with a short-lived token',
  options: [
    dirOption(),
    new Option(
      '--url <url>',
      'where the gateway is reached, if not at its public URL (e.g. the router of a Docker deployment on http://127.0.0.1:8080)',
    ).argParser(urlFlag),
    new Option('--user <login>', 'the allowed user the tokens are for (default: the first allowed user)'),
    new Option('--timeout <duration>', 'how long each request may take (default: 30s)'),
    new Option('--json', 'print one JSON document { ok, gateway, user, servers: [{ server, ok, checks: [...] }], failed, tokensRevoked }'),
  ],
  notes: `Tokens are signed with the project's key (like \`token issue\`), live 5 minutes, and are revoked
through the admin API at the end. Exit 0 when every server passes, 1 naming each one that failed.
With --url, URLs on the public URL's origin are fetched there instead; the expected values (issuer,
resource, metadata URLs) stay those of the public URL.`,
  examples: ['mcp-gateway smoke --dir ./gw', 'mcp-gateway smoke --dir ./gw --url http://127.0.0.1:8080 --json'],
  action: (_, flags: Flags<action.SmokeOptions>, { output }) => runSmoke({ ...flags, dir: projectDir(flags), json: flags.json === true }, { output }),
});
