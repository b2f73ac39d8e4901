/** OpenAPI path templates as routes of Fastify's router (find-my-way). */

const PARAMETER = /^\{([^}/]+)\}$/;
const TEMPLATE_PART = /(\{[^}/]+\})/;
// Text a static node cannot hold: `*` starts a wildcard; `#` and `?` arrive percent-encoded and are compared so.
const NOT_STATIC = /[#?*]/;

export interface RoutePath {
  /** The route for Fastify. */
  readonly url: string;
  /** Router parameter name -> the spec's parameter name. */
  readonly names: ReadonlyMap<string, string>;
}

/**
 * find-my-way takes `:name` for a parameter and `::` for a literal colon, but ends a parameter name only at `-`, `.`,
 * `/` or `(`. So parameters get positional names (any spec name works, and templates that differ only in their
 * names become one route), and a segment that is neither plain text nor exactly one parameter (`{name}:cancel`,
 * `items#all`, `*.txt`) becomes one regex node, which the router matches against the decoded segment: each
 * parameter a greedy group (as the Python runtime's `[^/]*`; the router hands a regex node one segment only), the
 * text between them static parts. Text before the first parameter follows an empty group, so that it is a static
 * part too: the router tells regex routes apart by their static parts only.
 */
export function routePath(path: string): RoutePath {
  const names = new Map<string, string>();
  const parameter = (name: string): string => {
    const key = `p${names.size}`;
    names.set(key, name);
    return key;
  };
  let texts = 0;
  const segments = path.split("/").map((segment) => {
    const whole = PARAMETER.exec(segment)?.[1];
    if (whole !== undefined) return `:${parameter(whole)}`;
    if (!segment.includes("{") && !NOT_STATIC.test(segment)) return segment.replaceAll(":", "::");
    const parts = segment.split(TEMPLATE_PART).filter((part) => part !== "");
    return parts
      .map((part, index) => {
        const name = PARAMETER.exec(part)?.[1];
        if (name !== undefined) return `:${parameter(name)}(.*)`;
        texts += 1;
        return (index === 0 ? `:t${texts}()` : "") + part.replaceAll(":", "::");
      })
      .join("");
  });
  return { url: segments.join("/"), names };
}

/** The path's shape without parameter names: templates that differ only in their names are one path. */
export function pathShape(path: string): string {
  return path.replace(/\{[^}/]+\}/g, "{}");
}
