/** The Cookie header read as the Python runtime (Starlette) reads it, for cookie parameters and API keys. */
import type { FastifyRequest } from "fastify";

const QUOTED_CHAR = /\\(?:([0-3][0-7]{2})|(.))/g;

/** `"..."` values lose their quotes and backslash escapes (octal ones too), like Python's http.cookies. */
function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  return value
    .slice(1, -1)
    .replace(QUOTED_CHAR, (_match, octal: string | undefined, char: string | undefined) =>
      octal !== undefined ? String.fromCharCode(Number.parseInt(octal, 8)) : (char ?? ""),
    );
}

/** `a=1; b=2`: pairs split at `;`, trimmed; a chunk without `=` is a value with an empty name; the last one wins. */
export function cookiesOf(request: FastifyRequest): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const chunk of (request.headers.cookie ?? "").split(";")) {
    const at = chunk.indexOf("=");
    const name = (at === -1 ? "" : chunk.slice(0, at)).trim();
    const value = (at === -1 ? chunk : chunk.slice(at + 1)).trim();
    if (name !== "" || value !== "") cookies.set(name, unquote(value));
  }
  return cookies;
}
