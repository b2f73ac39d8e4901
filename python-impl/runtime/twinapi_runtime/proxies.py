"""Which client a request comes from behind a load balancer: TRUSTED_PROXIES, as in the Node kit's proxies.ts.

TRUSTED_PROXIES is a comma-separated list of addresses and CIDR networks (IPv4 or IPv6; empty or unset: none).
When the peer of a connection is one of them, the client's address is read from X-Forwarded-For, from the right:
each address that is a trusted proxy is skipped, and the first that is not is the client's (when all are, the
leftmost). An entry that is no IP address is not a trusted proxy either, so it is taken as written, as Fastify's
trustProxy does. From any other peer X-Forwarded-For is ignored: a client cannot choose the address its failed
logins count against. The walk is Fastify's (@fastify/proxy-addr), so that both kits agree on every header.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twinapi_runtime.env import EnvError

VARIABLE = "TRUSTED_PROXIES"
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    networks: tuple[_Network, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def client(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The client's address of a request from `peer` with these X-Forwarded-For header values, in order."""
        if not self.networks:
            return peer
        hops = [peer]
        for value in reversed(forwarded_for):
            hops += [entry for entry in (part.strip(" \t") for part in reversed(value.split(","))) if entry]
        for hop in hops[:-1]:
            if not self.trusts(hop):
                return hop
        return hops[-1]


def _address(text: str) -> _Address | None:
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1, wherever it is written
    return parsed


def parse(text: str) -> TrustedProxies:
    """TRUSTED_PROXIES' value; EnvError naming the entry that is not an address or a network."""
    if not text.strip():
        return TrustedProxies()
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        address, slash, prefix = entry.partition("/")
        parsed = _address(address)
        if parsed is None or (slash and not (prefix.isascii() and prefix.isdigit())):
            raise EnvError(f"{VARIABLE}: {entry!r} is not an IP address or a CIDR network (10.0.0.0/8, ::1)")
        bits = int(prefix) if prefix else parsed.max_prefixlen
        if not 1 <= bits <= parsed.max_prefixlen:
            raise EnvError(
                f"{VARIABLE}: {entry!r} must have a prefix from 1 to {parsed.max_prefixlen}"
                " (trusting every address would let any client choose its own)"
            )
        networks.append(ipaddress.ip_network(f"{parsed}/{bits}", strict=False))
    return TrustedProxies(tuple(networks))


def trusted_proxies_from_env(env: Mapping[str, str] | None = None) -> TrustedProxies:
    return parse((os.environ if env is None else env).get(VARIABLE, ""))
