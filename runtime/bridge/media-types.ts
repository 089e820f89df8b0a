import type { IncomingHttpHeaders } from 'node:http';

export interface Acceptable {
  json: boolean;
  sse: boolean;
}

/**
 * Which of our two response types the client takes. Lenient on purpose: wildcards count, a
 * missing Accept means "anything" (RFC 9110 §12.5.1), and only an explicit `q=0` excludes.
 */
export function acceptable(header: string | undefined): Acceptable {
  if (header === undefined || header.trim() === '') return { json: true, sse: true };
  let json = false;
  let sse = false;
  for (const range of header.split(',')) {
    const [type = '', ...params] = range.split(';');
    if (params.some((param) => /^\s*q\s*=\s*0(\.0*)?\s*$/i.test(param))) continue;
    switch (type.trim().toLowerCase()) {
      case '*/*':
        return { json: true, sse: true };
      case 'application/*':
      case 'application/json':
        json = true;
        break;
      case 'text/*':
      case 'text/event-stream':
        sse = true;
        break;
    }
  }
  return { json, sse };
}

export function isJsonContentType(headers: IncomingHttpHeaders): boolean {
  const value = headers['content-type'];
  if (value === undefined) return false;
  const essence = value.split(';', 1)[0]?.trim().toLowerCase();
  return essence === 'application/json';
}
