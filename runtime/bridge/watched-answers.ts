import type { ResponseWatch } from '../access/tool-gate.js';
import { isJsonObject, type RequestId } from './json-rpc.js';

/**
 * The tool gate's watches over a remote server's answers (remote-proxy.ts): each JSON-RPC
 * response whose id is watched goes through its watch (a tools/list result filtered, a
 * tools/call audited), in a JSON body (one message or a batch) or in an SSE event. What is not
 * watched passes as it came.
 */
export class WatchedAnswers {
  readonly #watches: Map<RequestId, ResponseWatch>;

  constructor(watches: Map<RequestId, ResponseWatch>) {
    this.#watches = watches;
  }

  /** A JSON body (one message, or a batch of them): the body to send on. */
  rewriteJson(text: string): string {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return text; // not JSON: the client's problem to report, nothing of ours to filter
    }
    if (Array.isArray(parsed)) {
      let changed = false;
      const lines = parsed.map((item) => {
        const line = JSON.stringify(item);
        const next = this.#answered(item, line);
        if (next !== line) changed = true;
        return next;
      });
      return changed ? `[${lines.join(',')}]` : text;
    }
    return this.#answered(parsed, text);
  }

  /**
   * One SSE event as received (field lines and the blank line). Its `data` lines joined are the
   * message (WHATWG HTML §9.2.6); a rewritten message goes out as one `data` line, the other
   * fields (id, event, retry) kept in place.
   */
  rewriteEvent(event: string): string {
    if (this.#watches.size === 0) return event;
    const lines = event.split(/\r\n|\r|\n/);
    const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
    if (data.length === 0) return event;
    const message = data.join('\n');
    const next = this.rewriteJson(message);
    if (next === message) return event;
    const others = lines.filter((line) => line !== '' && !line.startsWith('data:'));
    return `${[...others, `data: ${next}`].join('\n')}\n\n`;
  }

  /** Watches never answered (the upstream failed, the client left): told so, once. */
  fail(reason: string): void {
    for (const watch of this.#watches.values()) watch.failed(reason);
    this.#watches.clear();
  }

  #answered(value: unknown, line: string): string {
    if (!isJsonObject(value) || !('result' in value || 'error' in value)) return line;
    const id = value['id'];
    if (typeof id !== 'string' && typeof id !== 'number') return line;
    const watch = this.#watches.get(id);
    if (watch === undefined) return line;
    this.#watches.delete(id);
    return watch.answered(value, line);
  }
}
