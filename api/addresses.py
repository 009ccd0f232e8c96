"""The address a request comes from, behind the proxies named in `TRUSTED_PROXIES`.

A proxy appends the address it was called from to `X-Forwarded-For`, so the header,
read from the right, is a chain of hops, each written by the one after it. Only hops
written by a trusted proxy are believed: starting from the peer, while the address in
hand is a trusted proxy's, the next hop to the left is taken. The first address that is
not a trusted proxy's is the client's; anything to its left was written by the client
itself and is ignored. A hop that is not an address stops the walk at the last trusted
proxy. Without `TRUSTED_PROXIES` the header is never read.
"""

from __future__ import annotations

import functools
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network


@functools.cache
def networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES` parsed (once per value; `load_settings` has checked each)."""
    return tuple(ip_network(entry, strict=False) for entry in entries)


def is_proxy(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:  # not an address (a test client's "testclient")
        return False
    return any(ip in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: list[str], proxies: tuple[Network, ...]
) -> str | None:
    """`peer`, or when it is a trusted proxy the nearest hop of `forwarded_for` (every
    `X-Forwarded-For` value, in order) that is not one."""
    address = peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    while address is not None and hops and is_proxy(address, proxies):
        try:
            address = str(ip_address(hops.pop()))
        except ValueError:
            break
    return address
