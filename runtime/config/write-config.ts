import { stringify } from 'yaml';
import { atomicWriteFile } from '../fs/atomic-write.js';
import { configSchema, type GatewayConfig, type GatewayConfigInput } from './schema.js';
import { parseConfig } from './load-config.js';
import { projectPaths } from './project-paths.js';

const HEADER = `# mcp-gateway configuration. Secrets (GitHub client secret, signing keys) live in .secrets/, never here.
# Edit by hand or with \`mcp-gateway add-server\` / \`remove-server\`; it is validated on every load.
`;

/**
 * Writes a whole new config (init) atomically, with every default spelled out: validated first, so
 * a config that would not load is never written. Edits of an existing one go through editConfig,
 * which keeps the file's comments and layout.
 */
export async function writeConfig(dir: string, input: GatewayConfigInput): Promise<GatewayConfig> {
  const checked = parseConfig(input, 'the new configuration');
  await atomicWriteFile(projectPaths(dir).configFile, HEADER + configText(checked), { mode: 0o644 });
  return checked;
}

/** A config as YAML text, in the notation a person writes (`8h`, `512m`, `https://host`). */
export function configText(config: GatewayConfig): string {
  return stringify(configSchema.encode(config), { lineWidth: 0 });
}
