import type { StdioLaunch } from '../bridge/child-process-session.js';

/** One member of an aggregate, as its process starts it: a stdio server's (confined) launch, or a remote server's URL. */
export type AggregateMember = { name: string; kind: 'stdio'; launch: StdioLaunch } | { name: string; kind: 'remote'; url: string };

/** What an aggregate's process needs to know, passed in its environment (MCPGW_AGGREGATE_SPEC). */
export interface AggregateSpec {
  name: string;
  members: AggregateMember[];
}

export const AGGREGATE_SPEC_ENV = 'MCPGW_AGGREGATE_SPEC';

export function parseAggregateSpec(text: string | undefined): AggregateSpec {
  if (text === undefined || text === '') throw new TypeError(`${AGGREGATE_SPEC_ENV} is not set: the aggregate server is started by the gateway`);
  const spec = JSON.parse(text) as AggregateSpec;
  if (typeof spec.name !== 'string' || !Array.isArray(spec.members)) throw new TypeError(`${AGGREGATE_SPEC_ENV} is not an aggregate spec`);
  return spec;
}
