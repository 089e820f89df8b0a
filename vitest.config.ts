import { defineConfig } from 'vitest/config';

/** The authorization-server suites run twice: on the embedded store and on Redis. */
const AUTH_SUITES = ['test/auth-*.test.ts', 'test/sdk-client-flow.test.ts', 'test/oauth4webapi-client.test.ts', 'test/hostile-*.test.ts'];

/**
 * The suites that drive a Docker engine. The Node version matrix (.ci/node-matrix) leaves them out
 * with MCPGW_TEST_WITHOUT_DOCKER_ENGINE=1: they spend their time in the engine, and the run on the
 * Node version of `.ci/run` covers them.
 */
const DOCKER_ENGINE_SUITES = [
  'test/docker-e2e.test.ts',
  'test/docker-up-failures.test.ts',
  'test/images-build.test.ts',
  'test/admin-docker-target.test.ts',
  'test/swarm-e2e.test.ts',
];

export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', ...(process.env['MCPGW_TEST_WITHOUT_DOCKER_ENGINE'] === '1' ? DOCKER_ENGINE_SUITES : [])],
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
