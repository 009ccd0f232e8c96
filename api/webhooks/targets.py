"""Where a webhook may be sent: the SSRF rules, checked after resolving the host.

Unless private targets are allowed (WEBHOOK_ALLOW_PRIVATE; the default in dev), a URL must
be `https://` and every address its host resolves to must be public (not loopback,
private, link-local, multicast, reserved, unspecified, nor an IPv4 one of those mapped
into IPv6). The check is made when an endpoint is saved and again before each attempt,
and the attempt then connects to the very address that was checked (the host stays in
the `Host` header and the TLS server name), so a second DNS answer cannot send it
elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(Exception):
    """The URL may not receive webhooks; the message says why, for the partner."""


class Target(NamedTuple):
    url: str  # the URL with the checked address in place of the host
    host: str  # the `Host` header: the URL's own host (and port)
    server_name: str | None  # the TLS server name (None for an address literal)


def check_shape(url: str, allow_private: bool) -> SplitResult:
    """The URL's parts, if it is one webhooks may be sent to (before any resolution)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("not a valid URL") from None
    schemes = ("http", "https") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeTarget("must start with " + " or ".join(f"{s}://" for s in schemes))
    if not parts.hostname:
        raise UnsafeTarget("has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("must not carry a user name or password")
    if parts.fragment:
        raise UnsafeTarget("must not have a #fragment")
    if port == 0:
        raise UnsafeTarget("has no valid port")
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        raise UnsafeTarget("has no valid host name") from None
    return parts


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_unspecified
    )


async def addresses_of(host: str, port: int) -> list[IPAddress]:
    """The addresses `host` stands for (resolved off the event loop, as asyncio does)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError):
        raise UnsafeTarget(f"the host {host} does not resolve") from None
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    if not found:
        raise UnsafeTarget(f"the host {host} does not resolve")
    return found


async def resolve(url: str, allow_private: bool) -> Target:
    """Check `url` and pin it to a checked address; UnsafeTarget if it may not be used."""
    parts = check_shape(url, allow_private)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await addresses_of(host, port)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise UnsafeTarget(f"resolves to a non-public address ({address})")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.netloc.rpartition("@")[2]
    return Target(pinned, host_header, None if _is_address(host) else host)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
