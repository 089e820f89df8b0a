/** GitHub logins are case-insensitive: `Alice` and `alice` are one account. */
export function createAllowlist(logins: readonly string[]): (login: string) => boolean {
  const allowed = new Set(logins.map((l) => l.toLowerCase()));
  return (login) => allowed.has(login.toLowerCase());
}
