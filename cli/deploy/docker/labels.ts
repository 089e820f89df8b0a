/**
 * Labels that tie Docker objects to a deployment. `io.mcp-gateway.*` are ours (the contract in
 * docs/docker-contract.md); the `com.docker.compose.*` ones are what `docker compose` itself
 * sets, so `docker compose ps|logs|down` in the deploy folder sees what `mcp-gateway up` created
 * and the other way round.
 */
export const LABEL_PROJECT = 'io.mcp-gateway.project';
export const LABEL_SERVICE = 'io.mcp-gateway.service';
export const LABEL_SERVER = 'io.mcp-gateway.server';
export const LABEL_SPEC_HASH = 'io.mcp-gateway.spec-hash';

export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';
export const COMPOSE_NUMBER = 'com.docker.compose.container-number';
export const COMPOSE_ONEOFF = 'com.docker.compose.oneoff';
export const COMPOSE_NETWORK = 'com.docker.compose.network';
export const COMPOSE_VOLUME = 'com.docker.compose.volume';

/** The label filter (Docker API `filters`) that finds every object of one project. */
export function projectFilter(project: string): { label: string[] } {
  return { label: [`${LABEL_PROJECT}=${project}`] };
}
