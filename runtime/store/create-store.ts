import { isAbsolute, resolve } from 'node:path';
import type { StoreConfig } from '../config/schema.js';
import type { ProjectPaths } from '../config/project-paths.js';
import type { Logger } from '../logger.js';
import { createEmbeddedStore } from './embedded-store.js';
import { createRedisStore } from './redis-store.js';
import type { Store } from './store.js';

export interface CreateStoreDeps {
  logger: Logger;
  /** Clock for the embedded store's expiry (Redis keeps its own time). */
  now?: () => number;
  /** Contents of .secrets/redis-password, read by the caller. */
  redisPassword?: string;
}

/** The embedded store's file: under the project directory unless its path is absolute. */
export function embeddedStorePath(config: { path: string }, paths: ProjectPaths): string {
  return isAbsolute(config.path) ? config.path : resolve(paths.dir, config.path);
}

/** The store the config names; the embedded file lives under the project directory unless its path is absolute. */
export async function createStore(config: StoreConfig, paths: ProjectPaths, deps: CreateStoreDeps): Promise<Store> {
  switch (config.type) {
    case 'embedded':
      return createEmbeddedStore({
        path: embeddedStorePath(config, paths),
        logger: deps.logger,
        ...(deps.now === undefined ? {} : { now: deps.now }),
      });
    case 'redis':
      return createRedisStore({
        url: config.url,
        keyPrefix: config.keyPrefix,
        logger: deps.logger,
        ...(deps.redisPassword === undefined ? {} : { password: deps.redisPassword }),
      });
  }
}
