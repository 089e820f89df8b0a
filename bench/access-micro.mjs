// The per-call work of runtime/access/ alone, in this process, without HTTP or children: what a
// policy decision and a tool-call audit line cost, steadier under load than the gateway's CPU per
// call (which moves with calls/s, see docs/performance.md). The policy is the 10-rule list of the
// bench's `echo-access` server (bench/gateway-server.mjs).
//   npm run build && node bench/access-micro.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createToolCallAudit } from '../dist/runtime/access/tool-call-audit.js';
import { createToolPolicy } from '../dist/runtime/access/tool-policy.js';
import { createLogger, silentLogger } from '../dist/runtime/logger.js';
import { ACCESS_LIST } from './access-list.mjs';

const subject = { sub: 'bench', login: 'bench', groups: [] };
const record = { subject, tool: 'echo', outcome: 'ok', durationMs: 1.234, arguments: { text: 'hello' } };

/** µs per call of `fn(i)` over `count` calls, after a tenth as many uncounted. */
function perCall(fn, count) {
  for (let i = 0; i < count / 10; i++) fn(i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) fn(i);
  return Number(process.hrtime.bigint() - started) / count / 1000;
}

const policy = createToolPolicy('echo-access', ACCESS_LIST);
if (!policy.decide(subject, 'echo').allowed || policy.decide(subject, 'add').allowed) throw new Error('the access list does not decide as the bench expects');
const dir = mkdtempSync(join(tmpdir(), 'mcpgw-access-micro-'));
const fileLogger = createLogger({ level: 'info', destination: pino.destination({ dest: join(dir, 'audit.log'), sync: true }) });
const rows = [
  ['policy decision, cached (every call after the first of a login and tool)', () => policy.decide(subject, 'echo'), 1_000_000],
  // A login per call: the cache misses, the ten rules are walked and the decision stored (the cache is cleared at 10,000).
  ['policy decision, uncached (the ten rules walked)', (i) => policy.decide({ ...subject, login: `user${i}` }, 'echo'), 200_000],
  [
    'tool-call audit record, silent logger (as bench/gateway-server.mjs runs)',
    (
      (audit) => () =>
        audit(record)
    )(createToolCallAudit(silentLogger(), { server: 'echo', toolArguments: false })),
    1_000_000,
  ],
  [
    'tool-call audit line, JSON to a file, synchronous (as `serve 2>FILE`)',
    (
      (audit) => () =>
        audit(record)
    )(createToolCallAudit(fileLogger, { server: 'echo', toolArguments: false })),
    100_000,
  ],
];
for (const [what, fn, count] of rows) console.log(`${perCall(fn, count).toFixed(3).padStart(8)} µs  ${what}`);
rmSync(dir, { recursive: true, force: true });
