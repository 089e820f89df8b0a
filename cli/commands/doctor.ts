import { Option } from 'commander';
import type * as action from '../actions/doctor.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway doctor`: every check, with the fix for each failure. */
export const runDoctor: typeof action.runDoctor = async (...args) => (await import('../actions/doctor.js')).runDoctor(...args);

export const doctorCommand = defineCommand({
  name: 'doctor',
  group: 'Getting started',
  description:
    'Check the project: config, secrets, the login provider, and how it runs (embedded: every server starts here; Docker: the engine, images, containers, ports); prints the fix for each failure',
  options: [
    dirOption(),
    new Option('--json', 'print the results as one JSON array [{ name, status: pass|fail|warn|skip, detail, fix? }] and nothing else'),
    new Option('--timeout <duration>', 'how long each server may take to answer initialize, e.g. 60s for a first `npx`/`uvx` download (default: 20s)'),
  ],
  notes: `Exits 1 when a check fails (warnings and skipped checks do not). A Docker project (a rendered deploy/,
which \`up\` writes, or deploy.email / deploy.project set) gets the engine, images (present, or buildable
here), containers (running and healthy per service; a server by its bridge container) and port checks;
its servers' commands are the runtime image's, not this host's. Any other project runs embedded
(\`serve\`): each stdio server is started here, asked to initialize and stopped. The GitHub app's
credentials are checked without anybody logging in.`,
  examples: ['mcp-gateway doctor --dir ./gw', 'mcp-gateway doctor --json | jq -r \'.[] | select(.status == "fail") | .fix\''],
  action: (_, flags: Flags<action.DoctorOptions>, { output }) => runDoctor({ ...flags, dir: projectDir(flags) }, { output }),
});
