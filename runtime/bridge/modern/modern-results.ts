import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { isJsonObject, type JsonObject, type RequestId } from '../json-rpc.js';
import { objectMembers } from './json-members.js';
import { CACHEABLE_METHODS, META, MODERN_PROTOCOL_VERSIONS } from './modern-protocol.js';

/** 2025's "resource not found", replaced by -32602 in 2026-07-28 (which must not send -32002). */
const LEGACY_RESOURCE_NOT_FOUND = -32002;
/** 2025-11-25's URL elicitation required: 2026-07-28 must not send it. */
const LEGACY_URL_ELICITATION_REQUIRED = -32042;

/**
 * A 2025 server's answer as a 2026-07-28 result: `resultType` (absent means complete, but the
 * spec says results MUST carry it), the caching fields on the results that need them (`private`
 * and 0 ms: what a child tells one user is not for another, and a child's lists can change
 * without the gateway knowing), and the server's identity in `_meta`.
 */
export function modernResult(method: string, result: JsonObject, serverInfo: JsonObject | undefined): JsonObject {
  const meta = isJsonObject(result['_meta']) ? result['_meta'] : {};
  return {
    ...result,
    resultType: 'complete',
    ...(CACHEABLE_METHODS.has(method) ? { ttlMs: 0, cacheScope: 'private' } : {}),
    _meta: serverInfo === undefined ? meta : { ...meta, [META.serverInfo]: serverInfo },
  };
}

/** Result keys the 2026-07-28 form adds: a result that has one already takes the slow path. */
const ADDED_KEYS = new Set(['resultType', 'ttlMs', 'cacheScope', '_meta']);

/**
 * modernResult's answer as a response line, made from the child's line by splicing: the child's
 * result members as it wrote them, then the members modernResult would add, under the client's
 * id. The same JSON as responseLine(clientId, { result: modernResult(...) }) with none of the
 * parse-spread-serialise of the whole result; numbers keep the child's spelling, as on the 2025
 * session path, which relays lines as they are. Undefined, for the caller to take the slow path,
 * unless the line is exactly `jsonrpc`, `id` and an object `result` (each once) whose keys are
 * all plain, distinct, and none of those added. `serverInfoJson` is the child's serverInfo as
 * JSON, made once per child.
 */
export function splicedResultLine(line: string, clientId: RequestId, method: string, serverInfoJson: string | undefined): string | undefined {
  const envelope = objectMembers(line, 0);
  if (envelope === undefined || envelope.members.length !== 3) return undefined;
  let seen = 0;
  let resultStart = -1;
  for (const { key, start } of envelope.members) {
    // Three members, each of these keys once: all three.
    const bit = key === 'jsonrpc' ? 1 : key === 'id' ? 2 : key === 'result' ? 4 : 0;
    if (bit === 0 || (seen & bit) !== 0) return undefined;
    seen |= bit;
    if (bit === 4) resultStart = start;
  }
  const result = objectMembers(line, resultStart);
  if (result === undefined) return undefined;
  const { members } = result;
  // A repeated key: JSON.parse keeps the last and so would the slow path; rare, so left to it.
  const keys = new Set<string>();
  for (const { key } of members) {
    if (ADDED_KEYS.has(key) || keys.has(key)) return undefined;
    keys.add(key);
  }
  const cache = CACHEABLE_METHODS.has(method) ? ',"ttlMs":0,"cacheScope":"private"' : '';
  const meta = serverInfoJson === undefined ? '{}' : `{"${META.serverInfo}":${serverInfoJson}}`;
  const separator = members.length === 0 ? '' : ',';
  return `{"jsonrpc":"2.0","id":${JSON.stringify(clientId)},"result":${line.slice(resultStart, result.close)}${separator}"resultType":"complete"${cache},"_meta":${meta}}}`;
}

/** A child's JSON-RPC error with the codes 2026-07-28 renamed or dropped mapped onto its own. */
export function modernError(error: unknown): JsonObject {
  if (!isJsonObject(error)) return { code: ErrorCode.InternalError, message: 'The MCP server answered with a malformed error' };
  const code = error['code'];
  if (code === LEGACY_RESOURCE_NOT_FOUND) return { ...error, code: ErrorCode.InvalidParams };
  if (code === LEGACY_URL_ELICITATION_REQUIRED) return { ...error, code: ErrorCode.InternalError };
  return error;
}

/** The `server/discover` result, built from the child's initialize result. */
export function discoverResult(initializeResult: JsonObject): JsonObject {
  const capabilities = isJsonObject(initializeResult['capabilities']) ? initializeResult['capabilities'] : {};
  const instructions = initializeResult['instructions'];
  return {
    resultType: 'complete',
    supportedVersions: [...MODERN_PROTOCOL_VERSIONS],
    capabilities,
    ...(typeof instructions === 'string' ? { instructions } : {}),
    ttlMs: 0,
    cacheScope: 'private',
    _meta: serverInfoOf(initializeResult) === undefined ? {} : { [META.serverInfo]: serverInfoOf(initializeResult) },
  };
}

export function serverInfoOf(initializeResult: JsonObject): JsonObject | undefined {
  const info = initializeResult['serverInfo'];
  return isJsonObject(info) ? info : undefined;
}

export function responseLine(id: RequestId, body: { result: JsonObject } | { error: JsonObject }): string {
  return JSON.stringify({ jsonrpc: '2.0', id, ...body });
}
