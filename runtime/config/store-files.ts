import { extname, isAbsolute, resolve } from 'node:path';
import type { ProjectPaths } from './project-paths.js';

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
