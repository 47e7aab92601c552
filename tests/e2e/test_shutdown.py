"""SIGTERM (§11): the service stops accepting connections, lets in-flight requests finish within
GATEHOUSE_SHUTDOWN_TIMEOUT, and exits 0.

The requests are made slow without touching the code: one hashing thread and a batch of
concurrent sign-ups, each of which waits its turn for argon2.
"""

import signal
import socket
import threading
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.gatehouse_server import GatehouseServer, migrated_server, wait_for

SIGN_UPS = 40  # ~35 ms of argon2 each on one thread: many are still queued at SIGTERM
SHUTDOWN_TIMEOUT_S = 5
MARGIN_S = 5.0


def hash_queue_depth(client: httpx.Client) -> float:
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "gatehouse_password_hash_queue_depth":
            return sum(sample.value for sample in family.samples)
    raise AssertionError("no gatehouse_password_hash_queue_depth in /metrics")


def deliberate(answer: httpx.Response) -> bool:
    """A 503 the service chose to send (its error envelope and Retry-After), not a broken answer."""
    return (
        answer.status_code == 503
        and answer.json().get("error") == "ServiceUnavailableError"
        and "Retry-After" in answer.headers
    )


def connection_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


class SignUps:
    """Concurrent sign-ups, each on a connection of its own; outcomes kept by index."""

    def __init__(self, server: GatehouseServer, count: int) -> None:
        self.server = server
        self.probe = httpx.Client(base_url=server.url, timeout=5)
        self.outcomes: dict[int, httpx.Response | httpx.HTTPError] = {}
        # Clients are built up front (an SSL context each is slow), so the requests leave together.
        self.clients = [httpx.Client(base_url=server.url, timeout=30) for _ in range(count)]
        self.threads = [threading.Thread(target=self._one, args=(i,)) for i in range(count)]

    def _one(self, i: int) -> None:
        body = {"email": f"slow{i}@example.com", "username": f"slow_{i}", "password": "Secret123"}
        try:
            with self.clients[i] as client:
                self.outcomes[i] = client.post("/api/v1/users", json=body)
        except httpx.HTTPError as exc:
            self.outcomes[i] = exc

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            if thread.ident is not None:  # started
                thread.join(timeout=60)
        for client in [*self.clients, self.probe]:
            client.close()

    def all_reached_the_server(self) -> bool:
        """Answered, or counted by the one-thread hashing pool (one hashing + the queue):
        read the gauge before the answers, so a request is never counted twice."""
        depth = hash_queue_depth(self.probe)
        answered = len(self.outcomes)
        return answered == len(self.threads) or (depth > 0 and depth + 1 + answered >= len(self.threads))


def test_sigterm_finishes_in_flight_sign_ups_refuses_new_connections_and_exits_0(tmp_path: Path) -> None:
    server = migrated_server(
        tmp_path, GATEHOUSE_HASH_WORKERS="1", GATEHOUSE_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT_S)
    )
    with server:
        server.start()
        assert server.process is not None
        sign_ups = SignUps(server, SIGN_UPS)
        try:
            sign_ups.start()
            wait_for(sign_ups.all_reached_the_server, 10, "every sign-up in flight or answered")
            in_flight_at_sigterm = SIGN_UPS - len(sign_ups.outcomes)
            server.signal(signal.SIGTERM)
            signalled = time.monotonic()

            wait_for(lambda: connection_refused(server.port), 3, "new connections refused after SIGTERM")
            unanswered_when_refused = SIGN_UPS - len(sign_ups.outcomes)
            exit_code = server.process.wait(timeout=SHUTDOWN_TIMEOUT_S + MARGIN_S)
            stopped_after = time.monotonic() - signalled
        finally:
            sign_ups.join()

    assert in_flight_at_sigterm >= 2, "precondition: sign-ups still running at SIGTERM"
    assert unanswered_when_refused > 0, "the listener should close while requests are still running"
    cut_off = {i: repr(o) for i, o in sign_ups.outcomes.items() if isinstance(o, httpx.HTTPError)}
    assert cut_off == {}
    assert len(sign_ups.outcomes) == SIGN_UPS
    answers = [o for o in sign_ups.outcomes.values() if isinstance(o, httpx.Response)]
    not_finished = [
        (a.status_code, a.text[:120]) for a in answers if not (a.status_code == 201 or deliberate(a))
    ]
    assert not_finished == []
    assert exit_code == 0, server.output()[-2000:]
    assert stopped_after <= SHUTDOWN_TIMEOUT_S + MARGIN_S


def test_sigterm_on_an_idle_server_exits_0_at_once(tmp_path: Path) -> None:
    server = migrated_server(tmp_path, GATEHOUSE_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT_S))
    with server:
        server.start()
        started = time.monotonic()
        exit_code = server.stop(timeout_s=SHUTDOWN_TIMEOUT_S + MARGIN_S)
        took = time.monotonic() - started

    assert exit_code == 0, server.output()[-2000:]
    assert took < SHUTDOWN_TIMEOUT_S, "an idle server has nothing to wait for"
    assert connection_refused(server.port)
