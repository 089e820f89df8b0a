import type { ProjectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import type { ComposeProject } from '../deploy/docker/compose-model.js';
import type { DoctorDeps, DoctorDockerEngine } from './doctor-deps.js';

/**
 * One line of `mcp-gateway doctor`. `warn` is something that may bite later (or could not be
 * tested from here); `skip` is a check that does not apply to this project, with the reason.
 */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  /**
   * Stable, for `--json` consumers: `config`, `secrets`, `docker`, `images`, `containers`, `ports`, `domain`, `proxy`, `provider`,
   * `redis`, `sandbox`, `server:NAME`.
   */
  name: string;
  status: CheckStatus;
  /** One sentence: what was found. */
  detail: string;
  /** What to do about a `fail` or `warn`: a command or a config change. */
  fix?: string;
  /** How long the check took. */
  ms?: number;
}

/** What every check after the config check starts from: a loaded config and its project's paths. */
export interface DoctorContext {
  paths: ProjectPaths;
  config: GatewayConfig;
  deps: DoctorDeps;
  /**
   * The project is a Docker deployment (cli/deployment-target.ts: `up` ran, or deploy.email /
   * deploy.project set), so the engine, images, containers and the router's ports matter, and the
   * servers run in containers, not on this host; why, or undefined for an embedded project.
   */
  dockerReason: string | undefined;
  /** The pinged engine, connected once for every check that asks. */
  dockerEngine(): Promise<DoctorDockerEngine>;
  /** The deployment's Docker project name (`deploy.project` or `mcpgw-<folder>`). */
  dockerProject: string;
  /**
   * deploy/compose.yaml as `up` reads it, loaded once; undefined when not rendered. Rejects with
   * its GatewayError when invalid. Absent in contexts built for checks that never read it.
   */
  compose?(): Promise<ComposeProject | undefined>;
}

export function pass(name: string, detail: string): CheckResult {
  return { name, status: 'pass', detail };
}

export function fail(name: string, detail: string, fix: string): CheckResult {
  return { name, status: 'fail', detail, fix };
}

export function warn(name: string, detail: string, fix?: string): CheckResult {
  return fix === undefined ? { name, status: 'warn', detail } : { name, status: 'warn', detail, fix };
}

export function skip(name: string, detail: string): CheckResult {
  return { name, status: 'skip', detail };
}

/** The status a group of findings adds up to: any fail fails, else any warn warns. */
export function worst(statuses: readonly CheckStatus[]): CheckStatus {
  if (statuses.includes('fail')) return 'fail';
  if (statuses.includes('warn')) return 'warn';
  if (statuses.length > 0 && statuses.every((s) => s === 'skip')) return 'skip';
  return 'pass';
}
