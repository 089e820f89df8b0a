import { stringify } from 'yaml';
import { atomicWriteFile } from '../fs/atomic-write.js';
import type { GatewayConfig } from './schema.js';
import { parseConfig } from './load-config.js';
import { projectPaths } from './project-paths.js';

const HEADER = `# mcp-gateway configuration. Secrets (GitHub client secret, signing keys) live in .secrets/, never here.
# Edit by hand or with \`mcp-gateway add-server\` / \`remove-server\`; it is validated on every load.
`;

/** Validates, then writes atomically: a config that would not load is never written. */
export async function writeConfig(dir: string, config: GatewayConfig): Promise<void> {
  const checked = parseConfig(config, 'the new configuration');
  await atomicWriteFile(projectPaths(dir).configFile, HEADER + stringify(checked, { lineWidth: 0 }), { mode: 0o644 });
}
