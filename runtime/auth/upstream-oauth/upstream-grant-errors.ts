import { GatewayError } from '../../errors.js';

/**
 * The two answers that send the user back to a remote MCP server's login. They are told to the
 * user (the proxy relays them), so they name the server and say what to do; the reason comes
 * from the vault or, cleaned, from the upstream's `error`.
 */

export function notConnected(server: string): GatewayError {
  return new GatewayError('ERR_UPSTREAM_NOT_CONNECTED', `you have not connected ${server} yet`, {
    hint: `connect ${server}: authorize the gateway at ${server}'s login once, and it keeps the tokens for your later requests`,
  });
}

export function reauthRequired(server: string, reason: string): GatewayError {
  return new GatewayError('ERR_UPSTREAM_REAUTH_REQUIRED', `${server} no longer accepts your authorization (${reason})`, {
    hint: `reconnect ${server}: authorize the gateway at ${server}'s login again`,
  });
}
