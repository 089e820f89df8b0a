import { urlText } from '../../runtime/config/config-codecs.js';
import { isExecutableCommand } from '../../runtime/fs/executable-command.js';
import { pino } from 'pino';
import { quote } from 'shell-quote';
import { buildChildEnv } from '../../runtime/bridge/child-env.js';
import { DEFAULT_TEMPLATE, startInitializedChild } from '../../runtime/bridge/initialized-child.js';
import type { RemoteServerConfig, ServerConfig } from '../../runtime/config/schema.js';
import { readServerHeaders } from '../../runtime/config/server-headers.js';
import { isGatewayError } from '../../runtime/errors.js';
import { launchFor, serverLaunch, type StdioLikeServer } from '../../runtime/mcp-services.js';
import type { StdioLaunch } from '../../runtime/bridge/child-process-session.js';
import { fail, pass, type CheckResult, type DoctorContext } from './doctor-check.js';

/** How many of the server's last stderr lines a failure quotes. */
const STDERR_LINES = 3;

/**
 * Each server of an embedded project answers `initialize`. A stdio server is started the way
 * serve's bridge starts it (`serverLaunch`: in the host's sandbox, the bridge's minimal
 * environment, its own process group) and stopped right after; a remote one gets an `initialize`
 * POST with its configured headers. A Docker project's servers run in containers, so its checks
 * are containers-check.ts's, not this host's commands.
 */
export async function checkServer(ctx: DoctorContext, name: string, server: ServerConfig): Promise<CheckResult> {
  if ('aggregate' in server) {
    // Its members are checked on their own; the aggregate adds nothing that can fail on its own.
    return pass(`server:${name}`, `aggregates ${server.aggregate.join(', ')} (each checked on its own)`);
  }
  return 'url' in server ? checkRemote(ctx, name, server) : checkStdio(ctx, name, server);
}

async function checkStdio(ctx: DoctorContext, name: string, server: StdioLikeServer): Promise<CheckResult> {
  const check = `server:${name}`;
  const configured = launchFor(server, ctx.paths.dir);
  const commandLine = quote([configured.command, ...configured.args]);
  const configFix = `check servers.${name} (command, args, env, cwd) in mcp-gateway.yaml, or rewrite it: mcp-gateway add-server ${name} --dir ${quote([ctx.paths.dir])} --command "..." --force`;
  const env = buildChildEnv(ctx.deps.env, configured.env);

  if (!(await isExecutableCommand(configured.command, { path: env['PATH'] ?? '', cwd: configured.cwd }))) {
    const text = `command ${configured.command} is not installed (not found on PATH)`;
    return fail(check, text, `install ${configured.command} (it must be on the PATH the gateway runs with), or ${configFix}`);
  }
  let launch: StdioLaunch;
  try {
    launch = serverLaunch(name, server, ctx.config, {
      projectDir: ctx.paths.dir,
      confinement: 'host',
      sandbox: ctx.deps.sandbox(),
    });
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return fail(check, err.message, err.hint ?? configFix);
  }

  const stderr: string[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { stream?: string; msg?: string };
        if (entry.stream === 'stderr' && typeof entry.msg === 'string') stderr.push(entry.msg);
      },
    },
  );
  const started = ctx.deps.now();
  const outcome = await startInitializedChild({
    launch: { ...launch, env: buildChildEnv(ctx.deps.env, launch.env) },
    logger,
    template: DEFAULT_TEMPLATE,
    timeoutMs: ctx.deps.serverTimeoutMs,
  });
  const seconds = ((ctx.deps.now() - started) / 1000).toFixed(1);
  if (outcome.ok) {
    // The whole process group, as the bridge stops a session's child.
    await outcome.value.child.terminate();
    return pass(check, `\`${commandLine}\` answered initialize in ${seconds} s (${outcome.value.serverName}, protocol ${outcome.value.negotiatedVersion})`);
  }
  const said = stderr.slice(-STDERR_LINES).map((line) => line.slice(0, 300));
  const detail = `\`${commandLine}\`: ${outcome.detail}${said.length > 0 ? `; its stderr: ${said.join(' | ')}` : ''}`;
  return fail(check, detail, `run \`${commandLine}\` in ${configured.cwd ?? ctx.paths.dir} to see its error; ${configFix}`);
}

async function checkRemote(ctx: DoctorContext, name: string, server: RemoteServerConfig): Promise<CheckResult> {
  const check = `server:${name}`;
  const rewrite = `mcp-gateway add-server ${name} --dir ${quote([ctx.paths.dir])} --url ${quote([urlText(server.url)])}${(server.headers ?? []).map((h) => ` --header ${quote([`${h}=...`])}`).join('')} --force`;
  let headers: Record<string, string>;
  try {
    headers = await readServerHeaders(ctx.paths, name, server.headers ?? []);
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return fail(check, err.message, err.code === 'ERR_SECRET_UNSAFE' ? (err.hint ?? rewrite) : rewrite);
  }
  const body = JSON.stringify({ jsonrpc: '2.0', id: 'mcp-gateway-doctor', method: 'initialize', params: DEFAULT_TEMPLATE });
  let res: Response;
  let text: string;
  try {
    res = await ctx.deps.fetch(server.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(ctx.deps.timeoutMs),
    });
    text = (await res.text()).slice(0, 1024 * 1024);
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    return fail(
      check,
      timedOut ? `${server.url} did not answer within ${ctx.deps.timeoutMs} ms` : `could not reach ${server.url} (${reasonOf(err)})`,
      `check that this host reaches ${server.url.origin} (DNS, proxy, firewall), or fix servers.${name}.url`,
    );
  }
  const session = res.headers.get('mcp-session-id');
  if (session !== null) {
    // Not left open on the upstream: the probe's session is ended at once, as the bridge's health probe does.
    void ctx.deps
      .fetch(server.url, { method: 'DELETE', headers: { ...headers, 'mcp-session-id': session }, signal: AbortSignal.timeout(ctx.deps.timeoutMs) })
      .then(
        (r) => r.body?.cancel(),
        () => undefined,
      );
  }
  if (res.status === 401 || res.status === 403) {
    return fail(check, `${server.url} refused the configured headers (HTTP ${res.status})`, `store valid header values (an API key, usually): ${rewrite}`);
  }
  if (!res.ok)
    return fail(
      check,
      `${server.url} answered initialize with HTTP ${res.status}`,
      `check servers.${name}.url: it must be the server's Streamable HTTP endpoint`,
    );
  const json = text.trimStart().startsWith('{') ? text : (/^data: ?(.*)$/m.exec(text)?.[1] ?? '');
  let message: { result?: { serverInfo?: { name?: unknown }; protocolVersion?: unknown }; error?: { message?: unknown } };
  try {
    message = JSON.parse(json) as typeof message;
  } catch {
    return fail(check, `${server.url} did not answer initialize with JSON-RPC`, `check servers.${name}.url: it must be the server's Streamable HTTP endpoint`);
  }
  if (message.result === undefined) {
    return fail(
      check,
      `${server.url}: initialize failed: ${typeof message.error?.message === 'string' ? message.error.message.slice(0, 300) : 'no result'}`,
      `check the remote server, or servers.${name}`,
    );
  }
  const serverName = typeof message.result.serverInfo?.name === 'string' ? message.result.serverInfo.name : 'unnamed server';
  return pass(check, `${server.url} answered initialize (${serverName})`);
}

function reasonOf(err: unknown): string {
  let current: unknown = err;
  let reason = String((err as Error)?.message ?? err);
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    reason = typeof code === 'string' ? code : current.message;
    current = current.cause;
  }
  return reason;
}
