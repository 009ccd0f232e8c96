"""`api.addresses`: which address a request counts as coming from behind TRUSTED_PROXIES,
and what a per-address limit counts. (A server behind a trusted proxy: test_abuse.)"""

from __future__ import annotations

import pytest

from api.addresses import MAX_HOPS, TrustedProxies, budget_key, forwarded_client

PROXIES = TrustedProxies(("10.0.0.0/8", "::1/128"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.2", [], "10.0.0.2"),  # a proxy's own request
        ("10.0.0.2", ["203.0.113.7"], "203.0.113.7"),
        ("10.0.0.2", ["198.51.100.1, 203.0.113.7"], "203.0.113.7"),  # the left: the client's
        ("10.0.0.2", ["198.51.100.1", "203.0.113.7"], "203.0.113.7"),  # two header lines
        ("10.0.0.2", ["203.0.113.7, 10.9.9.9"], "203.0.113.7"),  # through two proxies
        ("10.0.0.2", ["10.9.9.9"], "10.9.9.9"),  # every hop a proxy
        ("10.0.0.2", ["203.0.113.7, unknown"], "10.0.0.2"),  # stops at the last proxy
        ("10.0.0.2", [" 203.0.113.7 ,"], "10.0.0.2"),
        ("10.0.0.2", ["203.0.113.7:4711"], "203.0.113.7"),  # with a port
        ("10.0.0.2", ["[2001:db8::7]:4711"], "2001:db8::7"),
        ("10.0.0.2", ["::ffff:203.0.113.7"], "203.0.113.7"),  # IPv4, written mapped
        ("::ffff:10.0.0.2", ["203.0.113.7"], "203.0.113.7"),  # a proxy seen on a dual stack
        ("10.0.0.2", ["fe80::7%" + "x" * 500], "fe80::7"),  # a zone is dropped
        ("192.0.2.5", ["203.0.113.7"], "192.0.2.5"),  # not a proxy: the header is not read
        ("::1", ["2001:db8::7"], "2001:db8::7"),
        ("testclient", ["203.0.113.7"], "testclient"),
        (None, ["203.0.113.7"], None),
    ],
)
def test_the_client_is_the_nearest_hop_no_trusted_proxy_wrote(
    peer: str | None, forwarded: list[str], client: str | None
) -> None:
    assert forwarded_client(peer, forwarded, PROXIES) == client
    assert forwarded_client(peer, forwarded, TrustedProxies(())) == peer


def test_a_chain_of_proxies_is_followed_for_at_most_max_hops() -> None:
    def proxy(n: int) -> str:
        return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"

    chain = ", ".join(proxy(n) for n in range(100_000))  # anyone inside may write this
    walked = forwarded_client("10.0.0.2", [f"203.0.113.7, {chain}"], PROXIES)
    assert walked == proxy(100_000 - MAX_HOPS)  # the last hop believed
    hops = ", ".join(["203.0.113.7"] + ["10.0.0.9"] * (MAX_HOPS - 1))
    assert forwarded_client("10.0.0.2", [hops], PROXIES) == "203.0.113.7"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one client holds its whole /64
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("testclient", "testclient"),
    ],
)
def test_a_per_address_limit_counts_ipv4_addresses_and_ipv6_64s(address: str, key: str) -> None:
    assert budget_key(address) == key
