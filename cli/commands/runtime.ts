import { Argument, Option } from 'commander';
import type * as auth from '../actions/runtime-auth.js';
import type * as bridge from '../actions/runtime-bridge.js';
import type * as healthcheck from '../actions/runtime-healthcheck.js';
import type * as relay from '../actions/runtime-relay.js';
import type * as router from '../actions/runtime-router.js';
import { defineCommand, type Flags } from '../command-spec.js';

/**
 * What the containers run (compose.yaml `command:`); configured by MCPGW_* env, not flags, and
 * hidden from `--help` and the completion scripts.
 */

export const runRuntimeAuth: typeof auth.runRuntimeAuth = async (...args) => (await import('../actions/runtime-auth.js')).runRuntimeAuth(...args);
export const runRuntimeBridge: typeof bridge.runRuntimeBridge = async (...args) => (await import('../actions/runtime-bridge.js')).runRuntimeBridge(...args);
export const runRuntimeRouter: typeof router.runRuntimeRouter = async (...args) => (await import('../actions/runtime-router.js')).runRuntimeRouter(...args);
export const runRuntimeRelay: typeof relay.runRuntimeRelay = async (...args) => (await import('../actions/runtime-relay.js')).runRuntimeRelay(...args);
export const runRuntimeHealthcheck: typeof healthcheck.runRuntimeHealthcheck = async (...args) =>
  (await import('../actions/runtime-healthcheck.js')).runRuntimeHealthcheck(...args);

type HealthcheckOptions = Parameters<typeof healthcheck.runRuntimeHealthcheck>[0];

export const runtimeCommand = defineCommand({
  name: 'runtime',
  hidden: true,
  description: 'Container runtimes of a Docker deployment (configured by MCPGW_* environment variables)',
  subcommands: [
    defineCommand({
      name: 'auth',
      description: 'The OAuth authorization server and ForwardAuth /verify (MCPGW_CONFIG, MCPGW_LISTEN, MCPGW_SIGNING_KEYS, ...)',
      action: () => runRuntimeAuth({ env: process.env }),
    }),
    defineCommand({
      name: 'bridge',
      description: "One server's bridge: stdio child processes per session, or the remote proxy",
      arguments: [new Argument('<name>', 'the configured server name')],
      action: ([name]: [string]) => runRuntimeBridge({ name, env: process.env }),
    }),
    defineCommand({
      name: 'router',
      description: 'The built-in router: ForwardAuth to MCPGW_AUTH_URL, MCP endpoints to MCPGW_BRIDGE_URL',
      action: () => runRuntimeRouter({ env: process.env }),
    }),
    defineCommand({
      name: 'relay',
      description: 'Copies TCP connections on MCPGW_LISTEN to the Unix socket MCPGW_RELAY_SOCKET (the bridge of a network: none server)',
      action: () => runRuntimeRelay({ env: process.env }),
    }),
    defineCommand({
      name: 'healthcheck',
      description: 'Exit 0 when GET URL answers 200 within 2 s, else 1 (the images have no curl)',
      arguments: [new Argument('<url>', 'e.g. http://127.0.0.1:8000/health')],
      options: [new Option('--unix-socket <path>', "connect to this Unix socket instead of the URL's host and port (as curl does)")],
      action: ([url]: [string], flags: Flags<HealthcheckOptions>) => runRuntimeHealthcheck({ url, ...flags }),
    }),
  ],
});
