import { parseConfig } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';

export const DEMO_USER = 'demo';

/**
 * The zero-configuration demo: loopback only, the built-in demo server, login by a one-time
 * code printed in the terminal, nothing written to disk.
 */
export function demoConfig(port: number): GatewayConfig {
  return parseConfig(
    {
      publicUrl: `http://127.0.0.1:${port}`,
      listen: `127.0.0.1:${port}`,
      provider: { type: 'local', user: DEMO_USER },
      allowedUsers: [DEMO_USER],
      servers: { demo: { builtin: 'demo', description: 'Built-in demo server: echo, add, current_time' } },
    },
    'the demo configuration',
  );
}
