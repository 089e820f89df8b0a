import type * as action from '../actions/reload.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway reload`: a running serve applies mcp-gateway.yaml and rotated keys now. */
export const runReload: typeof action.runReload = async (...args) => (await import('../actions/reload.js')).runReload(...args);

export const reloadCommand = defineCommand({
  name: 'reload',
  group: 'Operate',
  description: 'Make a running `mcp-gateway serve` apply mcp-gateway.yaml (servers, allowlist) and rotated signing keys now, without a restart',
  options: [dirOption()],
  notes: `serve also reloads by itself when mcp-gateway.yaml changes. Servers added, removed or changed
start or stop; the others keep their sessions. A config that would not load is refused and the
old one keeps serving. publicUrl, listen, provider, store, tokens, clients and deploy need a restart.`,
  examples: ['mcp-gateway reload', 'mcp-gateway reload --dir ./gw'],
  action: (_, flags: Flags<action.ReloadOptions>, { output }) => runReload({ dir: projectDir(flags) }, { output }),
});
