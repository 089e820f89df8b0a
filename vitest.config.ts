import { defineConfig } from 'vitest/config';

/** The authorization-server suites run twice: on the embedded store and on Redis. */
const AUTH_SUITES = ['test/auth-*.test.ts', 'test/sdk-client-flow.test.ts', 'test/oauth4webapi-client.test.ts', 'test/hostile-*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers and child processes; two cores here.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'auth-on-redis', include: AUTH_SUITES, env: { MCPGW_TEST_STORE: 'redis' } } },
    ],
  },
});
