import { urlText } from '../config/config-codecs.js';
import type { StoreConfig } from '../config/schema.js';
import type { ProjectPaths } from '../config/project-paths.js';
import type { Logger } from '../logger.js';
import { createRedisStore } from './redis-store.js';
import { createSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';
import { embeddedStoreFiles } from '../config/store-files.js';

export interface CreateStoreDeps {
  logger: Logger;
  /** Clock for the embedded store's expiry (Redis keeps its own time). */
  now?: () => number;
  /** Contents of .secrets/redis-password, read by the caller. */
  redisPassword?: string;
}

/** The store the config names: SQLite for embedded (see embeddedStoreFiles), or Redis. */
export async function createStore(config: StoreConfig, paths: ProjectPaths, deps: CreateStoreDeps): Promise<Store> {
  switch (config.type) {
    case 'embedded': {
      const files = embeddedStoreFiles(config, paths);
      return createSqliteStore({
        path: files.database,
        importFrom: files.legacyStateFile,
        logger: deps.logger,
        now: deps.now,
      });
    }
    case 'redis':
      return createRedisStore({
        url: urlText(config.url),
        keyPrefix: config.keyPrefix,
        logger: deps.logger,
        password: deps.redisPassword,
      });
  }
}
