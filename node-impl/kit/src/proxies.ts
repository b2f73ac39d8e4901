/**
 * Which client a request comes from behind a load balancer: TRUSTED_PROXIES, as in the Python runtime's proxies.py.
 *
 * TRUSTED_PROXIES is a comma-separated list of addresses and CIDR networks (IPv4 or IPv6; empty or unset: none).
 * When the peer of a connection is one of them, the client's address is read from X-Forwarded-For, from the right:
 * each address that is a trusted proxy is skipped, and the first that is not is the client's (when all are, the
 * leftmost). An entry that is no IP address is not a trusted proxy either, so it is taken as written. From any other
 * peer X-Forwarded-For is ignored: a client cannot choose the address its failed logins count against. The walk is
 * Fastify's own `trustProxy` (request.ip, request.ips); this module says whom it trusts.
 */
import { BlockList, isIP } from "node:net";

import { ConfigError, type Env } from "./env.js";

export const TRUSTED_PROXIES = "TRUSTED_PROXIES";

/** Whether an address (a hop of X-Forwarded-For, or the peer) is a trusted proxy; Fastify's `trustProxy` function. */
export type TrustedProxies = ((address: string, hop?: number) => boolean) & { readonly count: number };

const MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** ::ffff:127.0.0.1 is 127.0.0.1, wherever it is written; null for what is no IP address. */
function address(text: string): { readonly ip: string; readonly family: "ipv4" | "ipv6" } | null {
  const mapped = MAPPED.exec(text)?.[1];
  const ip = mapped !== undefined && isIP(mapped) === 4 ? mapped : text;
  const version = isIP(ip);
  return version === 0 ? null : { ip, family: version === 4 ? "ipv4" : "ipv6" };
}

/** TRUSTED_PROXIES' value; a ConfigError names the entry that is not an address or a network. */
export function parseTrustedProxies(text: string): TrustedProxies {
  const list = new BlockList();
  let count = 0;
  if (text.trim() !== "") {
    for (const entry of text.split(",").map((part) => part.trim())) {
      const slash = entry.indexOf("/");
      const prefix = slash < 0 ? "" : entry.slice(slash + 1);
      const parsed = address(slash < 0 ? entry : entry.slice(0, slash));
      if (parsed === null || (slash >= 0 && !/^[0-9]+$/.test(prefix))) {
        throw new ConfigError(`${TRUSTED_PROXIES}: ${JSON.stringify(entry)} is not an IP address or a CIDR network (10.0.0.0/8, ::1)`);
      }
      const max = parsed.family === "ipv4" ? 32 : 128;
      const bits = slash < 0 ? max : Number(prefix);
      if (!(bits >= 1 && bits <= max)) {
        throw new ConfigError(
          `${TRUSTED_PROXIES}: ${JSON.stringify(entry)} must have a prefix from 1 to ${max} (trusting every address would let any client choose its own)`,
        );
      }
      list.addSubnet(parsed.ip, bits, parsed.family);
      count += 1;
    }
  }
  const trusts = (text: string): boolean => {
    if (count === 0) return false;
    const parsed = address(text);
    return parsed !== null && list.check(parsed.ip, parsed.family);
  };
  return Object.assign(trusts, { count });
}

export function trustedProxiesFromEnv(env: Env): TrustedProxies {
  return parseTrustedProxies(env[TRUSTED_PROXIES] ?? "");
}
