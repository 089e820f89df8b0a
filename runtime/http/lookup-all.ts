import { lookup } from 'node:dns/promises';

/** One DNS lookup with every address of a name (A and AAAA records, /etc/hosts): node:dns/promises' `lookup(name, { all: true })`. */
export type LookupAll = (name: string) => Promise<Array<{ address: string }>>;

export const lookupAll: LookupAll = (name) => lookup(name, { all: true });

/** The lookup errors that mean "no such name" rather than "the resolver failed". */
export function isNameNotFound(err: unknown): boolean {
  return ['ENOTFOUND', 'EAI_NONAME', 'ENODATA'].includes((err as NodeJS.ErrnoException).code ?? '');
}
