import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createSealedBox, type SealedBox } from '../../auth/sealed-box.js';
import { canonicalJson, isJsonObject, type JsonObject } from '../json-rpc.js';

/** What a `requestState` stands for: a call waiting in this bridge for the client's input. */
export interface RequestStateClaims {
  /** The waiting call (ModernCalls), random: a state names it, it never guesses it. */
  call: string;
  method: string;
  /** sha256 of the call's params without `_meta`, `inputResponses` and `requestState`. */
  params: string;
  /** Epoch ms after which the state is refused. */
  exp: number;
}

export type OpenedState = { ok: true; claims: RequestStateClaims } | { ok: false; reason: string };

/**
 * The `requestState` the gateway hands a 2026-07-28 client with an `input_required` result
 * (mrtr.mdx: the server MUST treat it as attacker-controlled). Sealed with AES-256-GCM, with the
 * user and the server as associated data, so a state cannot be read, altered, or replayed by
 * another user or at another server; it carries its expiry, and the call's method and a digest
 * of its params, so a retry must repeat the original request. The key is made per bridge
 * process: the call a state names lives in this process's memory, so no other process could
 * resume it anyway, and nothing needs storing or rotating.
 */
export class RequestStateSeal {
  readonly #box: SealedBox;
  readonly #server: string;
  readonly #now: () => number;

  constructor(server: string, options: { key?: Uint8Array; now?: () => number } = {}) {
    this.#box = createSealedBox(options.key ?? randomBytes(32));
    this.#server = server;
    this.#now = options.now ?? Date.now;
  }

  seal(user: string, claims: RequestStateClaims): string {
    return this.#box.seal(JSON.stringify(claims), this.#bound(user));
  }

  open(user: string, state: unknown, method: string, params: JsonObject): OpenedState {
    if (typeof state !== 'string' || state.length > 2048) return { ok: false, reason: 'requestState is not one this gateway issued' };
    const text = this.#box.open(state, this.#bound(user));
    if (text === undefined) return { ok: false, reason: 'requestState is not one this gateway issued for this user and server' };
    const claims = JSON.parse(text) as unknown;
    if (!isClaims(claims)) return { ok: false, reason: 'requestState is malformed' };
    if (claims.exp <= this.#now()) return { ok: false, reason: 'requestState has expired; send the request again without it' };
    if (claims.method !== method || claims.params !== paramsDigest(params)) {
      return { ok: false, reason: 'requestState belongs to another request: a retry repeats the original method and params' };
    }
    return { ok: true, claims };
  }

  #bound(user: string): string {
    return `mcp-gateway request state\n${this.#server}\n${user}`;
  }
}

/** The params that identify a request across its retries (mrtr.mdx: same method, same params). */
export function paramsDigest(params: JsonObject): string {
  const { _meta, inputResponses, requestState, ...rest } = params;
  return createHash('sha256').update(canonicalJson(rest)).digest('base64url');
}

function isClaims(value: unknown): value is RequestStateClaims {
  return (
    isJsonObject(value) &&
    typeof value['call'] === 'string' &&
    typeof value['method'] === 'string' &&
    typeof value['params'] === 'string' &&
    typeof value['exp'] === 'number'
  );
}

/**
 * An unguessable id for a call (122 random bits). randomUUID draws from a pooled buffer: about
 * 0.2 µs, against 2 µs and a getpid for randomBytes(16), on every call of the stateless path.
 */
export function newCallHandle(): string {
  return randomUUID();
}
