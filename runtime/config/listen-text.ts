/**
 * A listen address as a person types it: a port alone means this host only (`8080` is
 * `127.0.0.1:8080`), never every interface, so the short form cannot expose a gateway by accident.
 * Anything else is returned as it is, for the HOST:PORT check that follows.
 */
export function loopbackIfPortOnly(text: string): string {
  const trimmed = text.trim();
  return /^\d{1,5}$/.test(trimmed) ? `127.0.0.1:${trimmed}` : trimmed;
}
