"""Request headers over 16 KiB in all (CONTRACT §2): 431 in the envelope, and bounded memory.

In process, the app itself refuses them, under any server. Through `gatehouse serve`, a header
far beyond the bound (50 MiB on a raw socket) is refused after the first few kilobytes: the
server neither reads it whole into memory nor hangs, and serves the next request as usual.
"""

import contextlib
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Api, assert_envelope
from tests.gatehouse_server import GatehouseServer, migrated_server

MAX_HEADER_BYTES = 16 * 1024
HUGE_HEADER_BYTES = 50 * 1024 * 1024
CHUNK = b"a" * (64 * 1024)
SOCKET_TIMEOUT_S = 30
# What a server that read the 50 MiB header whole would add to its resident memory, at least.
MEMORY_BOUND_BYTES = 16 * 1024 * 1024


def headers_of(size: int, client: httpx.AsyncClient, **more: str) -> dict[str, str]:
    """Headers that, with the ones the client adds itself, come to `size` bytes in all (names
    and values, as the app counts them)."""
    headers = {**more, "X-Padding": ""}
    sent = client.build_request("GET", "/health/live", headers=headers).headers.raw
    headers["X-Padding"] = "a" * (size - sum(len(name) + len(value) for name, value in sent))
    return headers


async def test_headers_of_exactly_16_kib_in_all_pass_and_one_byte_more_is_a_431_envelope(api: Api) -> None:
    at_bound = await api.client.get("/health/live", headers=headers_of(MAX_HEADER_BYTES, api.client))
    over = await api.client.get(
        "/api/v1/users/me", headers=headers_of(MAX_HEADER_BYTES + 1, api.client, **{"X-Request-ID": "big-1"})
    )

    assert at_bound.status_code == 200, at_bound.text
    body = assert_envelope(over, 431, "RequestHeaderFieldsTooLargeError")
    assert body["request_id"] == "big-1"
    assert body["path"] == "/api/v1/users/me"
    assert over.headers["x-content-type-options"] == "nosniff"


async def test_headers_over_16_kib_in_many_lines_are_a_431_on_every_kind_of_path(api: Api) -> None:
    lines = [(f"x-pad-{n}", "b" * 200) for n in range(90)]  # 90 × ~207 bytes: no one line is long

    answers = [await api.client.get(path, headers=lines) for path in ("/health/live", "/nowhere", "/docs")]

    for answer in answers:
        assert_envelope(answer, 431, "RequestHeaderFieldsTooLargeError")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatehouseServer]:
    with migrated_server(tmp_path_factory.mktemp("header-size")) as running:
        running.start()
        yield running


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def send_huge_header(port: int) -> tuple[bytes, int]:
    """Start a request whose one header is 50 MiB, in 64 KiB writes; stop writing as soon as the
    server answers or closes. Returns what it answered and how many bytes of the header it took."""
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S) as sock:
        try:
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ")
            while sent < HUGE_HEADER_BYTES:
                sock.sendall(CHUNK)
                sent += len(CHUNK)
                if select.select([sock], [], [], 0)[0]:
                    break  # an answer (or the close) is waiting: the server stopped reading
            else:
                sock.sendall(b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection while the header was still coming
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # closed with the rest of the header unread: the answer came first
    return answer, sent


def test_a_50_mib_header_is_refused_431_early_and_the_server_stays_small(server: GatehouseServer) -> None:
    assert server.process is not None
    pid = server.process.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak resident size (VmHWM)
    resident_before = memory_kib(pid, "VmRSS")

    answer, sent = send_huge_header(server.port)

    peak = memory_kib(pid, "VmHWM")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:500]
    assert b'"error":"RequestHeaderFieldsTooLargeError"' in body
    assert b'"path":"/health/live"' in body
    assert sent < HUGE_HEADER_BYTES  # refused long before the header ended
    assert (peak - resident_before) * 1024 < MEMORY_BOUND_BYTES
    assert httpx.get(f"{server.url}/health/live", timeout=10).status_code == 200
    assert server.running()


def test_through_the_server_headers_over_16_kib_get_the_apps_own_431_envelope(
    server: GatehouseServer,
) -> None:
    headers = {"X-Request-ID": "served-big-1", "X-Padding": "a" * (40 * 1024)}

    over = httpx.get(f"{server.url}/api/v1/users/me", headers=headers, timeout=10)
    after = httpx.get(f"{server.url}/health/live", timeout=10)

    body = assert_envelope(over, 431, "RequestHeaderFieldsTooLargeError")
    assert body["request_id"] == "served-big-1"
    assert over.headers["x-api-version"] == "1"
    assert after.status_code == 200


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x7fb\r\n\r\n",
        b"GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\x01k\r\n\r\n",
        b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n{}",
    ],
    ids=["DEL-in-header", "control-in-header", "length-and-chunked"],
)
def test_bytes_that_are_not_http_get_a_400_envelope_from_the_server(
    server: GatehouseServer, request_bytes: bytes
) -> None:
    """The server's own refusal of what httptools can't parse is in the envelope too (§2)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT_S) as sock:
        sock.sendall(request_bytes)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert b"x-content-type-options: nosniff" in head.lower()
    assert b'"error":"BadRequestError"' in body
    assert b'"request_id":"' in body
    assert server.running()
