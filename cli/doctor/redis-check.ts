import { urlText } from '../../runtime/config/config-codecs.js';
import { readFile } from 'node:fs/promises';
import { isGatewayError } from '../../runtime/errors.js';
import { fail, pass, skip, type CheckResult, type DoctorContext } from './doctor-check.js';

/** With `store.type: redis`: Redis answers a PING, authenticated with `.secrets/redis-password` as `serve` would be. */
export async function checkRedis(ctx: DoctorContext): Promise<CheckResult> {
  // The containers use the deployment's own Redis (the rendered config says so), whatever store: says here.
  if (ctx.dockerReason !== undefined) return skip('redis', "the Docker deployment's Redis is its redis container (see containers)");
  const store = ctx.config.store;
  if (store.type !== 'redis') return skip('redis', `the store is embedded (${store.path}): no Redis to reach`);
  const password = await readPassword(ctx.paths.redisPassword);
  const where = describe(urlText(store.url));
  try {
    await ctx.deps.pingRedis({
      url: urlText(store.url),
      keyPrefix: store.keyPrefix,
      timeoutMs: ctx.deps.timeoutMs,
      ...(password === undefined ? {} : { password }),
    });
    return pass('redis', `Redis at ${where} answers${password === undefined ? ' (no password)' : ' (with .secrets/redis-password)'}`);
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    const auth = /NOAUTH|WRONGPASS|invalid password|AUTH/i.test(err.message);
    return fail(
      'redis',
      err.message,
      auth
        ? `write Redis's password to ${ctx.paths.redisPassword} (mode 0600), or fix the one there`
        : (err.hint ?? `start Redis or fix store.url (now ${where})`),
    );
  }
}

async function readPassword(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The URL without credentials, for messages. */
function describe(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
