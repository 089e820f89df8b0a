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
    'Check the project: config, secrets, Docker, ports, DNS, the login provider, Redis, and that every server starts; prints the fix for each failure',
  options: [
    dirOption(),
    new Option('--json', 'print the results as one JSON array [{ name, status: pass|fail|warn|skip, detail, fix? }] and nothing else'),
    new Option('--timeout <duration>', 'how long each server may take to answer initialize, e.g. 60s for a first `npx`/`uvx` download (default: 20s)'),
  ],
  notes: `Exits 1 when a check fails (warnings and skipped checks do not). Docker and port checks run only for a
Docker deployment (deploy.domain/email/project set, or a rendered deploy/); the GitHub app's credentials
are checked without anybody logging in; each stdio server is started, asked to initialize and stopped.`,
  examples: ['mcp-gateway doctor --dir ./gw', 'mcp-gateway doctor --json | jq -r \'.[] | select(.status == "fail") | .fix\''],
  action: (_, flags: Flags<action.DoctorOptions>, { output }) => runDoctor({ ...flags, dir: projectDir(flags) }, { output }),
});
