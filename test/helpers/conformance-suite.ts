import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

// The package has no `exports`, so its package.json resolves like any file in it.
const PACKAGE_JSON = createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json');
const PACKAGE_DIR = dirname(PACKAGE_JSON);

/** The official MCP conformance suite's CLI (its package.json `bin`), to run with this Node. */
export const CONFORMANCE_CLI = join(PACKAGE_DIR, (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { bin: { conformance: string } }).bin.conformance);

/** A check in a scenario's checks.json, as the suite writes it. */
export interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}

/**
 * The server scenarios a requirement set runs (the package's requirements/REVISION.yaml):
 * `scored` decide conformance, `unscored` run for visibility (extensions, pending, added later).
 */
export function serverRequirements(revision: string): { scored: string[]; unscored: string[] } {
  const set = parse(readFileSync(join(PACKAGE_DIR, 'requirements', `${revision}.yaml`), 'utf8')) as {
    server: string[];
    not_scored?: { scenario: string; leg: string }[];
  };
  return { scored: set.server, unscored: (set.not_scored ?? []).filter((entry) => entry.leg === 'server').map((entry) => entry.scenario) };
}

/** The `server:` entries of an expected-failures file, in the suite's format: `scenario` or `scenario:check-id`. */
export function readExpectedFailures(path: string): string[] {
  return (parse(readFileSync(path, 'utf8')) as { server?: string[] } | null)?.server ?? [];
}

export interface ConformanceRun {
  /** The CLI's exit code; null when it was killed at the deadline. */
  code: number | null;
  /** stdout and stderr, for failure messages. */
  output: string;
  /** Each scenario's checks, from the checks.json files the CLI wrote to `outDir`. */
  results: Map<string, Check[]>;
}

/**
 * Runs `conformance server --url URL --requirements REVISION` to completion (killed by PID at
 * `deadlineMs`, so a hung scenario cannot outlive the test) and reads the results it saved.
 */
export async function runConformanceServer(options: {
  url: string;
  revision: string;
  outDir: string;
  expectedFailures?: string | undefined;
  deadlineMs: number;
}): Promise<ConformanceRun> {
  const args = [CONFORMANCE_CLI, 'server', '--url', options.url, '--requirements', options.revision, '--output-dir', options.outDir];
  if (options.expectedFailures !== undefined) args.push('--expected-failures', options.expectedFailures);
  const child = spawn(process.execPath, args, { cwd: options.outDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const deadline = setTimeout(() => child.kill('SIGKILL'), options.deadlineMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  clearTimeout(deadline);
  return { code, output, results: readResults(options.outDir) };
}

/** `server-<scenario>-<ISO time with : and . as ->`: the folder the CLI saves each scenario's checks.json in. */
const RESULT_FOLDER = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

function readResults(outDir: string): Map<string, Check[]> {
  const results = new Map<string, Check[]>();
  for (const folder of readdirSync(outDir)) {
    const scenario = RESULT_FOLDER.exec(folder)?.[1];
    if (scenario === undefined) continue;
    const file = join(outDir, folder, 'checks.json');
    // The folder is made before the scenario runs, checks.json after: a scenario that threw has
    // none, and the CLI counts it as one failed check named after it ("Failed to run scenario").
    results.set(
      scenario,
      existsSync(file)
        ? (JSON.parse(readFileSync(file, 'utf8')) as Check[])
        : [{ id: scenario, status: 'FAILURE', errorMessage: 'the scenario threw before saving its checks (its error is in the output)' }],
    );
  }
  return results;
}

/**
 * The suite's own rule for a baseline (its README, "Expected Failures"), applied to every scenario
 * run, scored or not: a check fails when it is FAILURE or WARNING; a failing check not excused by
 * an entry is unexpected; an entry is stale when its scenario ran without failing, or its check
 * passed (a check that is absent or skipped is tolerated: an earlier failure can prevent it).
 */
export function compareWithExpectedFailures(
  results: ReadonlyMap<string, readonly Check[]>,
  expected: readonly string[],
): { unexpected: string[]; stale: string[] } {
  const fails = (check: Check) => check.status === 'FAILURE' || check.status === 'WARNING';
  const wholesale = new Set(expected.filter((entry) => !entry.includes(':')));
  const unexpected: string[] = [];
  for (const [scenario, checks] of results) {
    if (wholesale.has(scenario)) continue;
    for (const check of checks.filter(fails)) {
      if (!expected.includes(`${scenario}:${check.id}`)) unexpected.push(`${scenario}:${check.id} ${check.status}: ${check.errorMessage ?? ''}`);
    }
  }
  const stale = expected.filter((entry) => {
    const [scenario, checkId] = entry.split(':', 2) as [string, string | undefined];
    const checks = (results.get(scenario) ?? []).filter((check) => checkId === undefined || check.id === checkId);
    if (checks.some(fails)) return false;
    return checkId === undefined ? results.has(scenario) : checks.some((check) => check.status === 'SUCCESS');
  });
  return { unexpected, stale };
}
