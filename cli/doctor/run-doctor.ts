import { join } from 'node:path';
import { projectPaths } from '../../runtime/config/project-paths.js';
import type { ComposeProject } from '../deploy/docker/compose-model.js';
import { loadComposeProject } from '../deploy/docker/load-compose-project.js';
import { DEFAULT_DEPLOY_DIR } from '../deploy/docker-deployment.js';
import { deploymentMode } from '../deployment-target.js';
import { isGatewayError } from '../../runtime/errors.js';
import { projectName } from '../deploy/deploy-plan.js';
import { fail, skip, type CheckResult, type DoctorContext } from './doctor-check.js';
import type { DoctorDeps, DoctorDockerEngine } from './doctor-deps.js';
import { checkConfig } from './config-check.js';
import { checkContainers, checkServerContainer } from './containers-check.js';
import { checkDocker } from './docker-check.js';
import { checkImages } from './images-check.js';
import { checkDomain } from './domain-check.js';
import { checkPorts } from './ports-check.js';
import { checkProvider } from './provider-check.js';
import { checkProxy } from './proxy-check.js';
import { checkRedis } from './redis-check.js';
import { checkSandbox } from './sandbox-check.js';
import { checkSecrets } from './secrets-check.js';
import { checkServer } from './server-check.js';
import { mapLimited } from '../map-limited.js';

/** Stdio servers started at once: each may be an `npx`/`uvx` that downloads and compiles. */
const SERVER_CONCURRENCY = 4;

/**
 * Every check of `mcp-gateway doctor`, in a fixed order: the config first (the others need it;
 * with an invalid config they are skipped), then the rest concurrently. Never throws for what it
 * finds: a finding is a result. A Docker project's servers are judged by their containers; an
 * embedded project's are started here, as serve would start them.
 */
export async function runDoctor(dir: string, deps: DoctorDeps): Promise<CheckResult[]> {
  const paths = projectPaths(dir);
  const started = deps.now();
  const { result: configResult, config } = await checkConfig(paths);
  configResult.ms = deps.now() - started;
  if (config === undefined) {
    const later = ['secrets', 'docker', 'images', 'containers', 'ports', 'domain', 'proxy', 'provider', 'redis', 'sandbox', 'servers'];
    return [configResult, ...later.map((name) => skip(name, 'needs a valid config (see above)'))];
  }
  const mode = await deploymentMode(config, paths);
  let engine: Promise<DoctorDockerEngine> | undefined;
  let compose: Promise<ComposeProject | undefined> | undefined;
  const ctx: DoctorContext = {
    paths,
    config,
    deps,
    dockerReason: mode.kind === 'docker' ? mode.reason : undefined,
    dockerEngine: () => (engine ??= deps.connectDocker(deps.timeoutMs)),
    dockerProject: projectName(config, paths.dir),
    compose: () => (compose ??= renderedCompose(paths.dir, projectName(config, paths.dir))),
  };
  const checks = (
    [
      ['secrets', checkSecrets],
      ['docker', checkDocker],
      ['images', checkImages],
      ['containers', checkContainers],
      ['ports', checkPorts],
      ['domain', checkDomain],
      ['proxy', async (ctx: DoctorContext) => checkProxy(ctx)],
      ['provider', checkProvider],
      ['redis', checkRedis],
      ['sandbox', checkSandbox],
    ] as const
  ).map(([name, check]) => guarded(deps, name, () => check(ctx)));
  const servers = Object.entries(config.servers);
  const check = ctx.dockerReason === undefined ? checkServer : checkServerContainer;
  const serverResults = mapLimited(servers, SERVER_CONCURRENCY, ([name, server]) => guarded(deps, `server:${name}`, () => check(ctx, name, server)));
  return [configResult, ...(await Promise.all(checks)), ...(await serverResults)];
}

/** deploy/compose.yaml, which `up` renders and reads; undefined before the first render. */
async function renderedCompose(dir: string, projectName: string): Promise<ComposeProject | undefined> {
  try {
    return await loadComposeProject(join(dir, DEFAULT_DEPLOY_DIR, 'compose.yaml'), { projectName });
  } catch (err) {
    if (isGatewayError(err) && err.code === 'ERR_DEPLOY_NOT_RENDERED') return undefined;
    throw err;
  }
}

/** Times a check; one that breaks (a bug, an unreadable file) becomes its own failure instead of hiding the others. */
async function guarded(deps: DoctorDeps, name: string, run: () => Promise<CheckResult>): Promise<CheckResult> {
  const started = deps.now();
  let result: CheckResult;
  try {
    result = await run();
  } catch (err) {
    result = fail(
      name,
      `the check itself failed: ${err instanceof Error ? err.message : String(err)}`,
      'if the message does not point at a cause on this host, this is a bug in mcp-gateway doctor',
    );
  }
  return { ...result, ms: deps.now() - started };
}
