/** The engine's reason without dockerode's "(HTTP code 500) server error - " prefix. */
export function dockerMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } }).json;
  return json?.message ?? String((err as Error)?.message ?? err).replace(/^\(HTTP code \d+\) [a-z ]+ - /, '');
}

/** The HTTP status of a failed engine call (404: no such object, 409: conflict, 304: already so). */
export function dockerStatus(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}
