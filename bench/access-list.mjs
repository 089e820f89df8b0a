// The access list of the bench's `echo-access` server (issue 14: "a policy check adds at most 5 µs
// of gateway CPU per call"), shared by bench/gateway-server.mjs and bench/access-micro.mjs.

/**
 * Ten rules, none of which decides `echo` for `bench` before the last: four `tools.deny` globs that
 * miss it, five access rules that name other users or give `bench` other tools, then the one that
 * admits it. Each (login, groups, tool) is walked once; the policy's decision cache answers after.
 * `add` (no rule gives it to bench) and `env` (denied) are the refusals run.mjs checks first.
 * Only `users` rules: `orgs`/`teams` need the GitHub provider and `emailDomains` OpenID Connect.
 */
export const ACCESS_LIST = {
  tools: { deny: ['write_*', 'delete_?ile', '*_admin', 'env'] },
  access: [
    { users: ['alice'], tools: ['*'] },
    { users: ['bob', 'carol'], tools: ['read_*', 'list_*'] },
    { users: ['bench', 'dave'], tools: ['read_*', 'search_?'] },
    { users: ['erin'], tools: ['echo'] },
    { users: ['frank', 'grace'], tools: ['*'] },
    { users: ['bench'], tools: ['echo', 'pid'] },
  ],
};
