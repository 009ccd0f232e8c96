"""The address a request comes from, behind the proxies named in `TRUSTED_PROXIES`.

A proxy appends the address it was called from to `X-Forwarded-For`, so the header,
read from the right, is a chain of hops, each written by the one after it. Only hops
written by a trusted proxy are believed: starting from the peer, while the address in
hand is a trusted proxy's, the next hop to the left is taken (at most `MAX_HOPS`). The
first address that is not a trusted proxy's is the client's; anything to its left was
written by the client itself and is ignored. A hop that is not an address stops the walk
at the last trusted proxy. Without `TRUSTED_PROXIES` the header is never read.

Limits count per `budget_key`: an IPv4 address, or the /64 network of an IPv6 one (one
client holds a whole /64 and could otherwise change address at every try).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

MAX_HOPS = 20  # proxies in a row; a longer chain stops at the last one believed


class TrustedProxies:
    """`TRUSTED_PROXIES` as networks (`load_settings` has checked each entry)."""

    def __init__(self, entries: tuple[str, ...]) -> None:
        self.networks: tuple[IPv4Network | IPv6Network, ...] = tuple(map(ip_network, entries))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, ip: IPv4Address | IPv6Address | None) -> bool:
        return ip is not None and any(ip in network for network in self.networks)


def parsed(hop: str) -> IPv4Address | IPv6Address | None:
    """An address as a hop or a peer writes it: `a.b.c.d`, an IPv6 address (`::ffff:`
    mapped IPv4 read as the IPv4 it is, a `%zone` dropped), either with a port
    (`a.b.c.d:port`, `[v6]:port`); None for anything else."""
    hop = hop.strip()
    if hop.startswith("["):
        hop = hop[1 : hop.find("]")] if "]" in hop else ""
    elif hop.count(":") == 1:
        hop = hop.partition(":")[0]
    try:
        ip = ip_address(hop.partition("%")[0])
    except ValueError:
        return None
    return (ip.ipv4_mapped or ip) if isinstance(ip, IPv6Address) else ip


def forwarded_client(
    peer: str | None, forwarded_for: list[str], proxies: TrustedProxies
) -> str | None:
    """`peer`, or when it is a trusted proxy the nearest hop of `forwarded_for` (every
    `X-Forwarded-For` value, in order) that is not one."""
    if peer is None or (address := parsed(peer)) not in proxies:
        return peer
    hops = (
        hop for value in reversed(forwarded_for) for hop in reversed(value.rsplit(",", MAX_HOPS))
    )
    for _, hop in zip(range(MAX_HOPS), hops, strict=False):
        if (ip := parsed(hop)) is None:
            break
        address = ip
        if ip not in proxies:
            break
    return str(address)


def budget_key(address: str) -> str:
    """What a per-address limit counts: the IPv4 address, or the IPv6 one's /64."""
    ip = parsed(address)
    if ip is None:  # not an address (a test client's "testclient")
        return address
    if isinstance(ip, IPv6Address):
        return str(ip_network(f"{ip}/64", strict=False))
    return str(ip)
