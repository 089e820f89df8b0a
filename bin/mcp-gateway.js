#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm run build` (run by `prepare` on `npm ci`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('mcp-gateway: the CLI is not built yet.\n  hint: run `npm run build` (or `npm ci`, which builds it) in the package folder.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
