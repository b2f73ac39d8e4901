/** The request path as the conventions mean it: without the query string, percent-decoded as ASGI servers do. */
import type { FastifyRequest } from "fastify";

const utf8 = new TextDecoder("utf-8");
const ESCAPE = /%[0-9A-Fa-f]{2}/;
const EXACT_ESCAPE = /^%[0-9A-Fa-f]{2}$/;

/** Like Python's urllib.parse.unquote: valid %XX runs become UTF-8 (invalid bytes become U+FFFD), the rest stays. */
export function percentDecode(path: string): string {
  if (!ESCAPE.test(path)) return path;
  const bytes: number[] = [];
  for (let i = 0; i < path.length;) {
    const escape = path.slice(i, i + 3);
    if (EXACT_ESCAPE.test(escape)) {
      bytes.push(Number.parseInt(escape.slice(1), 16));
      i += 3;
    } else {
      const codePoint = path.codePointAt(i) ?? 0;
      const char = String.fromCodePoint(codePoint);
      bytes.push(...Buffer.from(char, "utf8"));
      i += char.length;
    }
  }
  return utf8.decode(Uint8Array.from(bytes));
}

export function requestPath(request: FastifyRequest): string {
  const url = request.url;
  const query = url.indexOf("?");
  return percentDecode(query === -1 ? url : url.slice(0, query));
}
