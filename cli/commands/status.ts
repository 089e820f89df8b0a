import { Option } from 'commander';
import type * as action from '../actions/status.js';
import { adminUrlOption } from '../admin-options.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { targetOption, UP_TARGETS } from '../deploy/deploy-target.js';

/** `mcp-gateway status`: the Docker deployment's containers, or the `serve` running an embedded project. */
export const runStatus: typeof action.runStatus = async (...args) => (await import('../actions/status.js')).runStatus(...args);

export const statusCommand = defineCommand({
  name: 'status',
  group: 'Operate',
  description:
    'Show what runs the project: the Docker containers (state, health, ports), or the running serve (pid, listen address, health, servers); and what the admin page shows: sessions per server and user, clients, grants, calls/s, p50/p99, gateway overhead',
  options: [
    dirOption(),
    adminUrlOption(),
    new Option(
      '--json',
      'print one JSON document: { mode: "docker", project, services: [{ service, server, container, state, health, ports, image, status }], summary, summaryError } or { mode: "swarm", project, services: [{ service, server, name, running, desired, image, ports, update }], summary, summaryError } or { mode: "embedded", listen, publicUrl, gateway: { pid, health, ... } | null, servers: [...], summary, summaryError }',
    ),
    targetOption(UP_TARGETS),
  ],
  notes: `A Docker project (a rendered deploy/, which \`up\` writes, or deploy.email / deploy.project set) shows its
containers; any other project shows the \`mcp-gateway serve\` that holds its store's gateway lock, and
asks its /health at the configured listen address, then at the public URL. Without a running serve it
says so and exits 0, as it does for a deployment without containers.
Once something runs, the summary comes from the admin API's GET /admin/status (authorised by
.secrets/admin-token): where /health answered for serve, the public URL (or --url) for Docker, whose
auth container reports clients, grants and metrics but no sessions (those are in the bridge
containers). \`summary\` and \`summaryError\` are in the JSON whenever \`gateway\` is not null (or a
container runs); a summary that cannot be read is \`summary: null\` with \`summaryError: { code,
message, hint }\` (ERR_GATEWAY_UNREACHABLE, ERR_ADMIN_UNAVAILABLE, ERR_ADMIN_DENIED, ERR_SECRET_MISSING).
--target swarm (the default when deploy/stack.yaml was rendered) shows the project's swarm services with their
running and desired replicas (a task with a healthcheck counts once healthy) and the state of the last rolling update.`,
  examples: [
    'mcp-gateway status --dir ./gw',
    'mcp-gateway status --json | jq -r ".services[] | select(.health != \\"healthy\\") | .service"',
    'mcp-gateway status --json | jq ".gateway.pid"',
    'mcp-gateway status --json | jq ".summary.metrics.callsPerSecond"',
    'mcp-gateway status --dir ./gw --url http://127.0.0.1:8080',
    'mcp-gateway status --target swarm --json | jq ".services[] | {service, running, desired}"',
  ],
  action: (_, flags: Flags<action.StatusOptions>, { output }) =>
    runStatus(
      {
        dir: projectDir(flags),
        json: flags.json === true,
        ...(flags.url === undefined ? {} : { url: flags.url }),
        ...(flags.target === undefined ? {} : { target: flags.target }),
      },
      { output },
    ),
});
