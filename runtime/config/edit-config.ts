import type { Document } from 'yaml';
import { atomicWriteFile } from '../fs/atomic-write.js';
import { checkConfig, loadConfigDocument } from './load-config.js';
import type { GatewayConfig } from './schema.js';
import { projectPaths } from './project-paths.js';

/**
 * Changes `mcp-gateway.yaml` in place: `edit` works on the YAML document (so comments, key order
 * and the user's own notation survive) and sees the validated config as it was; the result is
 * validated like a load before it replaces the file atomically. Callers hold the project lock
 * (withProjectLock), so two commands at once never lose each other's change. Returns the config
 * before and after.
 */
export async function editConfig<T>(
  dir: string,
  edit: (document: Document, before: GatewayConfig) => T | Promise<T>,
): Promise<{ before: GatewayConfig; after: GatewayConfig; result: T }> {
  const { configFile } = projectPaths(dir);
  const { document, config: before } = await loadConfigDocument(dir);
  const result = await edit(document, before);
  const after = checkConfig(document.toJS(), 'the changed configuration', dir);
  await atomicWriteFile(configFile, document.toString({ lineWidth: 0 }), { mode: 0o644 });
  return { before, after, result };
}

/** `servers: {}` written as a flow map would take new entries on one line; block style reads better. */
export function blockStyle(document: Document, path: readonly string[]): void {
  const node = document.getIn(path, true);
  if (node !== null && typeof node === 'object' && 'flow' in node) (node as { flow: boolean }).flow = false;
}
