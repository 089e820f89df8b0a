import { extname, isAbsolute, resolve } from 'node:path';
import type { StoreConfig } from '../config/schema.js';
import type { ProjectPaths } from '../config/project-paths.js';
import type { Logger } from '../logger.js';
import { createRedisStore } from './redis-store.js';
import { createSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

export interface CreateStoreDeps {
  logger: Logger;
  /** Clock for the embedded store's expiry (Redis keeps its own time). */
  now?: () => number;
  /** Contents of .secrets/redis-password, read by the caller. */
  redisPassword?: string;
}

export interface EmbeddedStoreFiles {
  /** The SQLite database. */
  database: string;
  /** A `state.json` of the JSON-file store of earlier releases, imported on first start if it exists. */
  legacyStateFile: string | undefined;
}

const LEGACY_DEFAULT = '.mcp-gateway/state.json';
const DATABASE_DEFAULT = '.mcp-gateway/store.sqlite';

/**
 * Where `store.type: embedded` keeps its files (relative paths under the project directory).
 * `store.path` names the database. A path ending in `.json` is a config of an earlier release,
 * whose JSON-file store lived there: the database goes beside it with `.sqlite` for `.json`
 * (`state.json` -> `state.sqlite`) and the JSON file is what gets imported. The default database
 * imports the earlier default, `.mcp-gateway/state.json`. Other paths import nothing.
 */
export function embeddedStoreFiles(config: { path: string }, paths: ProjectPaths): EmbeddedStoreFiles {
  const configured = isAbsolute(config.path) ? config.path : resolve(paths.dir, config.path);
  if (extname(configured) === '.json') return { database: `${configured.slice(0, -'.json'.length)}.sqlite`, legacyStateFile: configured };
  const isDefault = configured === resolve(paths.dir, DATABASE_DEFAULT);
  return { database: configured, legacyStateFile: isDefault ? resolve(paths.dir, LEGACY_DEFAULT) : undefined };
}

/** The store the config names: SQLite for embedded (see embeddedStoreFiles), or Redis. */
export async function createStore(config: StoreConfig, paths: ProjectPaths, deps: CreateStoreDeps): Promise<Store> {
  switch (config.type) {
    case 'embedded': {
      const files = embeddedStoreFiles(config, paths);
      return createSqliteStore({
        path: files.database,
        ...(files.legacyStateFile === undefined ? {} : { importFrom: files.legacyStateFile }),
        logger: deps.logger,
        ...(deps.now === undefined ? {} : { now: deps.now }),
      });
    }
    case 'redis':
      return createRedisStore({
        url: config.url,
        keyPrefix: config.keyPrefix,
        logger: deps.logger,
        ...(deps.redisPassword === undefined ? {} : { password: deps.redisPassword }),
      });
  }
}
