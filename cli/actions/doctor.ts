import { DURATION_HINT, parseDuration } from '../../runtime/config/duration.js';
import type { CheckResult, CheckStatus } from '../doctor/doctor-check.js';
import { defaultDoctorDeps, type DoctorDeps } from '../doctor/doctor-deps.js';
import { runDoctor as runChecks } from '../doctor/run-doctor.js';
import { GatewayError } from '../../runtime/errors.js';
import { processOutput, type CliOutput } from '../output.js';

export interface DoctorOptions {
  dir: string;
  /** The results as one JSON array on stdout, nothing else there. */
  json?: boolean;
  /** How long each stdio server may take to answer initialize, e.g. `60s`. */
  timeout?: string;
}

export interface DoctorCommandDeps {
  output: CliOutput;
  /** The outside world the checks reach (DNS, Docker, GitHub, Redis, clock); the real one by default. */
  doctor?: Partial<DoctorDeps>;
}

const SYMBOL: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', skip: '-' };

/**
 * `mcp-gateway doctor`: every check of runtime/doctor, one line each with the fix under what
 * failed. Exits 1 (ERR_UNHEALTHY) when any check failed; warnings and skips do not fail it.
 */
export async function runDoctor(options: DoctorOptions, deps: Partial<DoctorCommandDeps> = {}): Promise<CheckResult[]> {
  const output = deps.output ?? processOutput;
  let serverTimeoutMs: number | undefined;
  if (options.timeout !== undefined) {
    serverTimeoutMs = parseDuration(options.timeout);
    if (serverTimeoutMs === undefined) throw new GatewayError('ERR_USAGE', `--timeout ${options.timeout} is not a duration`, { hint: DURATION_HINT });
  }
  const doctorDeps = defaultDoctorDeps({ ...(serverTimeoutMs === undefined ? {} : { serverTimeoutMs }), ...deps.doctor });
  const results = await runChecks(options.dir, doctorDeps);
  output.stdout(options.json ? `${JSON.stringify(results, null, 2)}\n` : formatReport(results));
  const failed = results.filter((r) => r.status === 'fail');
  if (failed.length > 0) {
    throw new GatewayError('ERR_UNHEALTHY', `${failed.length} of ${results.length} checks failed: ${failed.map((r) => r.name).join(', ')}`, {
      hint: options.json ? 'each failed entry has a "fix"' : 'do what the "fix:" lines say, then run mcp-gateway doctor again',
      reported: true,
    });
  }
  return results;
}

/** One line per check (`✓ name  detail`), the fix indented under it, and a count at the end. */
export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const indent = ' '.repeat(width + 4);
  const lines: string[] = [];
  for (const result of results) {
    const detail = result.status === 'skip' ? `skipped: ${result.detail}` : result.detail;
    lines.push(`${SYMBOL[result.status]} ${result.name.padEnd(width)}  ${detail}`);
    if (result.fix !== undefined && result.status !== 'pass') {
      for (const [i, line] of result.fix.split('\n').entries()) lines.push(`${indent}${i === 0 ? 'fix: ' : '     '}${line}`);
    }
  }
  const count = (status: CheckStatus): number => results.filter((r) => r.status === status).length;
  const warnings = count('warn');
  lines.push('', `${count('fail')} failed, ${warnings} warning${warnings === 1 ? '' : 's'}, ${count('pass')} passed, ${count('skip')} skipped`);
  return `${lines.join('\n')}\n`;
}
