import { Argument, Option } from 'commander';
import type * as action from '../actions/clients.js';
import { ADMIN_API_NOTE, adminUrlOption } from '../admin-options.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway clients list`: the clients registered by dynamic registration (RFC 7591). */
export const runClientsList: typeof action.runClientsList = async (...args) => (await import('../actions/clients.js')).runClientsList(...args);

/** `mcp-gateway clients show ID`: one client with its grants. */
export const runClientsShow: typeof action.runClientsShow = async (...args) => (await import('../actions/clients.js')).runClientsShow(...args);

/** `mcp-gateway clients remove ID`: every grant of the client revoked, then the client forgotten. */
export const runClientsRemove: typeof action.runClientsRemove = async (...args) => (await import('../actions/clients.js')).runClientsRemove(...args);

/** `mcp-gateway clients prune`: clients never used, or idle, for longer than given. */
export const runClientsPrune: typeof action.runClientsPrune = async (...args) => (await import('../actions/clients.js')).runClientsPrune(...args);

const clientIdArgument = (): Argument => new Argument('<id>', 'the client id (see clients list)');

export const clientsCommand = defineCommand({
  name: 'clients',
  group: 'Admin',
  description: 'List, inspect, remove and prune the OAuth clients registered with the gateway',
  subcommands: [
    defineCommand({
      name: 'list',
      description: 'List registered clients: id, name, registration, last use, active grants, redirect URIs',
      options: [dirOption(), adminUrlOption(), new Option('--json', 'print one JSON document { clients: [...] }')],
      notes: ADMIN_API_NOTE,
      examples: ['mcp-gateway clients list --dir ./gw', 'mcp-gateway clients list --json | jq -r ".clients[].clientId"'],
      action: (_, flags: Flags<action.ClientsOptions>, { output }) =>
        runClientsList({ ...flags, dir: projectDir(flags), json: flags.json === true }, { output }),
    }),
    defineCommand({
      name: 'show',
      description: 'Show one client and its grants',
      arguments: [clientIdArgument()],
      options: [dirOption(), adminUrlOption(), new Option('--json', 'print one JSON document { client: {..., grants: [...]} }')],
      notes: ADMIN_API_NOTE,
      examples: ['mcp-gateway clients show 3q2-x7Yb... --dir ./gw'],
      action: ([clientId]: [string], flags: Flags<action.ClientsOptions>, { output }) =>
        runClientsShow({ ...flags, dir: projectDir(flags), json: flags.json === true, clientId }, { output }),
    }),
    defineCommand({
      name: 'remove',
      description: 'Revoke every grant of a client and forget it (what its own RFC 7592 DELETE does)',
      arguments: [clientIdArgument()],
      options: [dirOption(), adminUrlOption(), new Option('--json', 'print one JSON document { removed: { clientId, clientName, revokedGrants } }')],
      notes: ADMIN_API_NOTE,
      examples: ['mcp-gateway clients remove 3q2-x7Yb... --dir ./gw'],
      action: ([clientId]: [string], flags: Flags<action.ClientsOptions>, { output }) =>
        runClientsRemove({ ...flags, dir: projectDir(flags), json: flags.json === true, clientId }, { output }),
    }),
    defineCommand({
      name: 'prune',
      description: 'Remove clients never used or idle for too long (the gateway also forgets them on its own after clients.unusedTtl / idleTtl)',
      options: [
        dirOption(),
        adminUrlOption(),
        new Option('--unused-for <duration>', 'remove clients registered this long ago and never used (default: clients.unusedTtl, 24h)'),
        new Option('--idle-for <duration>', 'remove clients not used for this long (default: clients.idleTtl, 90d)'),
        new Option('--dry-run', 'list what would be removed, remove nothing'),
        new Option('--json', 'print one JSON document { dryRun, unusedForMs, idleForMs, clients: [{ clientId, reason, ... }] }'),
      ],
      notes: ADMIN_API_NOTE,
      examples: ['mcp-gateway clients prune --unused-for 1h --dry-run', 'mcp-gateway clients prune --idle-for 30d --json'],
      action: (_, flags: Flags<action.ClientsPruneOptions>, { output }) =>
        runClientsPrune({ ...flags, dir: projectDir(flags), dryRun: flags.dryRun === true, json: flags.json === true }, { output }),
    }),
  ],
});
