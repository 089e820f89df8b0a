import type { z } from 'zod';

/**
 * Why a document from a remote MCP server or its authorization server cannot be used, in words
 * fit for whoever runs the gateway. Thrown by the parsers in this folder; the caller, which knows
 * the URL it fetched and what it was looking for, wraps it in a GatewayError. `hint`, when set,
 * is a fix more specific than the caller's general one.
 */
export class MetadataProblem extends Error {
  override readonly name = 'MetadataProblem';
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string } = {}) {
    super(message);
    this.hint = options.hint;
  }
}

/** The first schema issue with its dotted path (`scopes_supported.0: Invalid input: …`); values are never quoted. */
export function problemFromZod(error: z.ZodError): MetadataProblem {
  const issue = error.issues[0];
  if (issue === undefined) return new MetadataProblem('the document does not have the expected shape');
  const path = issue.path.map(String).join('.');
  return new MetadataProblem(path === '' ? issue.message : `${path}: ${issue.message}`);
}

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;
