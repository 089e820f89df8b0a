import type { ServerRateLimitConfig, Rate } from '../config/access-schema.js';
import type { RateCounter } from '../store/rate-counter.js';
import type { AccessSubject } from './access-subject.js';
import { compileGlob, type NameGlob } from './name-glob.js';
import { canonicalName } from './tool-name.js';

/** A request over a limit: which one (for the error and the audit) and when to retry. */
export interface RateRefusal {
  limit: string;
  retryAfterMs: number;
}

export interface RateLimits {
  readonly active: boolean;
  /** Counts one request of `subject` (and, for a tools/call, one call of `tool`); a refusal when over a limit. */
  take(subject: AccessSubject, tool: string | undefined): Promise<RateRefusal | undefined>;
}

/**
 * `servers.NAME.rateLimit` (falling back to the top-level `rateLimit.perUser`): every request a
 * user sends this server counts against `perUser`; a `tools/call` also counts against the first
 * `tools` entry whose name or glob matches the tool (canonical names, as the access policy
 * compares them). Counted by token subject, never by login, which can change hands.
 */
export function createRateLimits(
  server: string,
  config: ServerRateLimitConfig | undefined,
  fallbackPerUser: Rate | undefined,
  counter: RateCounter,
): RateLimits {
  const perUser = config?.perUser ?? fallbackPerUser;
  const perUserName = config?.perUser === undefined ? 'rateLimit.perUser' : `servers.${server}.rateLimit.perUser`;
  const tools: Array<{ glob: NameGlob; rate: Rate; name: string; index: number }> = Object.entries(config?.tools ?? {}).map(([pattern, rate], index) => ({
    glob: compileGlob(pattern),
    rate,
    name: `servers.${server}.rateLimit.tools.${pattern}`,
    index,
  }));
  const active = perUser !== undefined || tools.length > 0;
  const describe = (name: string, rate: Rate): string => `${name} (${rate.count} per ${rate.windowMs / 1000}s)`;

  return {
    active,
    async take(subject, tool) {
      if (perUser !== undefined) {
        const verdict = await counter.consume(`${server}\n${subject.sub}`, perUser);
        if (!verdict.allowed) return { limit: describe(perUserName, perUser), retryAfterMs: verdict.retryAfterMs };
      }
      if (tool === undefined || tools.length === 0) return undefined;
      const canonical = canonicalName(tool);
      const entry = tools.find(({ glob }) => glob.matches(canonical));
      if (entry === undefined) return undefined;
      const verdict = await counter.consume(`${server}\n${subject.sub}\n${entry.index}`, entry.rate);
      return verdict.allowed ? undefined : { limit: describe(entry.name, entry.rate), retryAfterMs: verdict.retryAfterMs };
    },
  };
}
