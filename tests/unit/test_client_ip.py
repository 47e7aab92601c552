"""Which address is the client: the socket peer, or `X-Forwarded-For` past trusted proxies (§1, §7)."""

from typing import Any

import pytest

from gatehouse.adapters.origin import ContextOrigin
from gatehouse.entrypoints.http.client_ip import client_ip, parse_networks
from gatehouse.entrypoints.http.context import context_of
from gatehouse.entrypoints.http.metrics import Metrics
from gatehouse.entrypoints.http.middleware import GatehouseMiddleware

PROXIES = parse_networks(["10.0.0.0/8", "127.0.0.1"])


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_ip("192.0.2.7", "203.0.113.1", ()) == "192.0.2.7"


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert client_ip("192.0.2.7", "203.0.113.1", PROXIES) == "192.0.2.7"


def test_a_peer_that_is_not_an_ip_is_never_trusted() -> None:
    assert client_ip("testclient", "203.0.113.1", PROXIES) == "testclient"


def test_a_trusted_peer_without_forwarded_for_is_the_client() -> None:
    assert client_ip("127.0.0.1", None, PROXIES) == "127.0.0.1"
    assert client_ip("127.0.0.1", "", PROXIES) == "127.0.0.1"


def test_no_peer_gives_no_address() -> None:
    assert client_ip(None, "203.0.113.1", PROXIES) is None


def test_a_trusted_peer_forwarding_one_hop_names_that_client() -> None:
    assert client_ip("127.0.0.1", "203.0.113.1", PROXIES) == "203.0.113.1"


def test_the_rightmost_untrusted_hop_wins_over_a_spoofed_leftmost_one() -> None:
    # The client sent "6.6.6.6" itself; our proxies appended the address they saw.
    assert client_ip("10.0.0.1", "6.6.6.6, 203.0.113.1, 10.0.0.2", PROXIES) == "203.0.113.1"


def test_when_every_hop_is_trusted_the_leftmost_is_the_client() -> None:
    assert client_ip("10.0.0.1", "10.1.1.1, 10.0.0.2", PROXIES) == "10.1.1.1"


def test_a_malformed_untrusted_hop_falls_back_to_the_peer() -> None:
    assert client_ip("10.0.0.1", "not-an-ip", PROXIES) == "10.0.0.1"
    assert client_ip("10.0.0.1", "203.0.113.1, garbage", PROXIES) == "10.0.0.1"


def test_ipv6_clients_are_normalised() -> None:
    proxies = parse_networks(["::1"])

    assert client_ip("::1", "2001:DB8:0::1", proxies) == "2001:db8::1"


def test_parse_networks_accepts_ips_and_cidrs() -> None:
    networks = parse_networks(["127.0.0.1", " 10.0.0.0/8 ", "fd00::/8"])

    assert [str(n) for n in networks] == ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]


def test_parse_networks_names_a_bad_entry() -> None:
    with pytest.raises(ValueError, match=r"proxy\.example"):
        parse_networks(["127.0.0.1", "proxy.example"])


async def ip_seen_by_the_app(peer: str, forwarded_lines: list[bytes]) -> str | None:
    """The client IP the outer middleware hands the app, for a request from `peer` that sent
    `X-Forwarded-For` in these header lines."""
    seen: list[str | None] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(context_of(scope).ip)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: dict[str, Any]) -> None:
        pass

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/health/live",
        "client": (peer, 40000),
        "headers": [(b"host", b"testserver"), *((b"x-forwarded-for", line) for line in forwarded_lines)],
    }
    await GatehouseMiddleware(app, Metrics(), ContextOrigin(), PROXIES)(scope, None, send)
    return seen[0]


async def test_forwarded_for_in_several_lines_is_one_list_walked_from_the_right() -> None:
    # The client forged the first line; our proxy appended the address it saw as a line of its own.
    assert await ip_seen_by_the_app("127.0.0.1", [b"6.6.6.6", b"203.0.113.1"]) == "203.0.113.1"
    assert await ip_seen_by_the_app("127.0.0.1", [b"198.51.100.7, 10.0.0.9", b"203.0.113.1"]) == "203.0.113.1"
    assert await ip_seen_by_the_app("10.0.0.1", [b"6.6.6.6", b"203.0.113.1, 10.0.0.2", b""]) == "203.0.113.1"


async def test_forwarded_for_lines_from_an_untrusted_peer_are_ignored() -> None:
    assert await ip_seen_by_the_app("192.0.2.7", [b"6.6.6.6", b"203.0.113.1"]) == "192.0.2.7"


async def test_forwarded_for_longer_than_all_headers_may_be_is_never_walked() -> None:
    # Such a request is refused 431; its rate-limit bucket is the peer's, and the list is not split.
    huge = b", ".join([b"203.0.113.1"] * 2000)

    assert await ip_seen_by_the_app("127.0.0.1", [huge]) == "127.0.0.1"
