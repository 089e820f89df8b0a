/** The URL a client connects to for server NAME; publicUrl is an origin (the schema refuses paths). */
export function endpointUrl(publicUrl: URL | string, name: string): string {
  return new URL(`/${name}/mcp`, publicUrl).href;
}
