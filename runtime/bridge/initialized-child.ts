import { isGatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ChildProcessSession, type StdioLaunch } from './child-process-session.js';
import { canonicalJson, isJsonObject, type Envelope, type JsonObject } from './json-rpc.js';
import { tooLargeMessage } from './oversized-message.js';
import { DEFAULT_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './protocol-versions.js';

/** How much of a dying server's last stderr line the health report quotes. */
const STDERR_QUOTE_CHARS = 300;

/** The `initialize` params a gateway-started child (warm pool, health probe) is initialized with. */
export interface InitializeTemplate {
  protocolVersion: string;
  capabilities: JsonObject;
  clientInfo: JsonObject;
}

/**
 * Until a client shows what it sends: the newest revision and the SDK client's default (no
 * capabilities). The warm pool then adopts the params real clients send.
 */
export const DEFAULT_TEMPLATE: InitializeTemplate = {
  protocolVersion: SUPPORTED_PROTOCOL_VERSIONS[0],
  capabilities: {},
  clientInfo: { name: 'mcp-gateway', version: '1' },
};

/** A child that has answered `initialize` and been sent `notifications/initialized`. */
export interface InitializedChild {
  child: ChildProcessSession;
  /** The child's InitializeResult as JSON text, to answer clients with. */
  resultJson: string;
  negotiatedVersion: string;
  serverName: string;
  /** What the child sent after initializing (a roots/list request, a log line), for its session. */
  early: Array<{ envelope: Envelope; line: string }>;
}

export type InitializeOutcome = { ok: true; value: InitializedChild } | { ok: false; detail: string };

const INIT_ID = 'mcp-gateway-init';
const MAX_EARLY_MESSAGES = 64;

/**
 * Spawns the server and runs the MCP handshake as a client would, for a child nobody is waiting
 * on yet. Never rejects: a failure is a `detail` for the log or the health report, and the child
 * is stopped.
 */
export async function startInitializedChild(options: {
  launch: StdioLaunch;
  logger: Logger;
  template: InitializeTemplate;
  timeoutMs: number;
  /** Default: DEFAULT_MAX_MESSAGE_BYTES (the doctor's probe has no bridge settings). */
  maxMessageBytes?: number | undefined;
}): Promise<InitializeOutcome> {
  const { launch, logger, template, timeoutMs, maxMessageBytes } = options;
  let settle!: (outcome: InitializeOutcome) => void;
  const settled = new Promise<InitializeOutcome>((resolve) => (settle = resolve));
  const early: InitializedChild['early'] = [];
  let lastStderr: string | undefined;
  let child: ChildProcessSession;
  try {
    child = await ChildProcessSession.start({
      launch,
      logger,
      maxMessageBytes,
      onOversized: ({ id, limit }) => {
        if (id === INIT_ID) settle({ ok: false, detail: tooLargeMessage('the answer to initialize', limit) });
      },
      onMessage: (envelope, line) => {
        if (envelope.kind === 'response' && envelope.id === INIT_ID) return settle(fromInitializeResponse(child, envelope.value, early));
        if (early.length < MAX_EARLY_MESSAGES) early.push({ envelope, line });
      },
      onClose: (exit) => {
        const how = exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`;
        // Its last words say why (a missing API key; the sandbox's "execvp X: No such file").
        const said = lastStderr === undefined ? '' : `: ${lastStderr.slice(0, STDERR_QUOTE_CHARS)}`;
        settle({ ok: false, detail: `the server exited (${how}) before answering initialize${said}` });
      },
      onStderrLine: (line) => {
        if (line.trim() !== '') lastStderr = line.trim();
      },
    });
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return { ok: false, detail: err.message };
  }
  child.send(JSON.stringify({ jsonrpc: '2.0', id: INIT_ID, method: 'initialize', params: template }));
  const timer = setTimeout(() => settle({ ok: false, detail: `the server did not answer initialize within ${timeoutMs} ms` }), timeoutMs);
  const outcome = await settled;
  clearTimeout(timer);
  if (!outcome.ok) {
    await child.terminate();
    return outcome;
  }
  child.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return outcome;
}

function fromInitializeResponse(child: ChildProcessSession, response: JsonObject, early: InitializedChild['early']): InitializeOutcome {
  const result = response['result'];
  if (!isJsonObject(result)) {
    const error = response['error'];
    const message = isJsonObject(error) && typeof error['message'] === 'string' ? error['message'] : 'no result';
    return { ok: false, detail: `initialize failed: ${message}` };
  }
  const version = typeof result['protocolVersion'] === 'string' ? result['protocolVersion'] : DEFAULT_PROTOCOL_VERSION;
  const info = isJsonObject(result['serverInfo']) ? result['serverInfo'] : {};
  const serverName = [info['name'], info['version']].filter((part) => typeof part === 'string').join(' ') || 'unnamed server';
  return { ok: true, value: { child, resultJson: JSON.stringify(result), negotiatedVersion: version, serverName, early } };
}

/**
 * Which clients a child initialized with `template` can serve: the same requested protocol
 * version and the same capabilities. Capability objects are compared by value (keys sorted).
 * Undefined for params that do not look like initialize params.
 */
export function templateKey(params: unknown): string | undefined {
  if (!isJsonObject(params) || typeof params['protocolVersion'] !== 'string' || !isJsonObject(params['capabilities'])) return undefined;
  return `${params['protocolVersion']}\n${canonicalJson(params['capabilities'])}`;
}

export function templateFrom(params: unknown): InitializeTemplate | undefined {
  if (templateKey(params) === undefined || !isJsonObject(params)) return undefined;
  const clientInfo = isJsonObject(params['clientInfo']) ? params['clientInfo'] : DEFAULT_TEMPLATE.clientInfo;
  return { protocolVersion: params['protocolVersion'] as string, capabilities: params['capabilities'] as JsonObject, clientInfo };
}
