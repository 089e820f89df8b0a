import { Option } from 'commander';
import { urlFlag } from './url-flag.js';

/** What the `clients` and `tokens` commands share: how they reach the gateway, and the help saying so. */

export const ADMIN_API_NOTE = `A running gateway is asked through its admin API (<publicUrl>/admin/, or --url), authorised by
.secrets/admin-token. When no gateway runs (no live serve named by .mcp-gateway/store.sqlite.gateway.lock),
the embedded SQLite database is opened directly, and several commands may do so at once; a Redis
store is then used directly (password from .secrets/redis-password).
A Docker deployment (a rendered deploy/compose.yaml, or deploy.email or deploy.project set) is only
ever asked through its auth runtime's admin API: when the public URL does not reach it from this
host, pass --url with the router's published port (builtin router: http://127.0.0.1:<deploy.httpPort>).`;

export function adminUrlOption(): Option {
  return new Option('--url <url>', "reach the gateway's admin API here instead of at its public URL (e.g. http://127.0.0.1:8080)").argParser(urlFlag);
}
