"""Durability (§9) through a real crash: writers sign up users and create orders over HTTP,
the server gets SIGKILL under load, and after a restart every write that was answered 2xx is
there, and no order is half-written — on SQLite and on PostgreSQL.
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.cli_support import Cli, clean_environment
from tests.gatehouse_server import (
    PASSWORD,
    GatehouseServer,
    bearer,
    log_in,
    migrated_server,
    sign_up,
    wait_for,
)
from tests.mail_server import SmtpSink, closed_port
from tests.servers import fresh_postgres_database

WRITERS = 4
ANSWERED_BEFORE_KILL = 40
ORDERS_PER_USER = 4


def order_body(writer: int, n: int, k: int) -> dict[str, Any]:
    """An order with k+1 items whose skus say whose and which it is (to match it after the crash)."""
    items = [
        {"sku": f"W{writer}-N{n}-K{k}-I{i}", "quantity": i + 1, "unit_price_cents": 100 * (i + 1)}
        for i in range(k + 1)
    ]
    return {"currency": "EUR", "items": items}


@dataclass
class Writes:
    """What the writers sent, and what the server answered 2xx before it died."""

    users: dict[int, str] = field(default_factory=dict)  # id -> email
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> the answered order
    attempted: dict[str, dict[str, Any]] = field(default_factory=dict)  # first sku -> body sent
    unexpected: list[str] = field(default_factory=list)  # answers that were neither 2xx nor a cut-off
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self) -> int:
        with self.lock:
            return len(self.users) + len(self.orders)


class Writer(threading.Thread):
    def __init__(self, number: int, url: str, writes: Writes) -> None:
        super().__init__()
        self.number, self.url, self.writes = number, url, writes

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            try:
                for n in range(10_000):
                    self.one_user(client, n)
            except httpx.HTTPError:
                return  # the server is gone
            except AssertionError as exc:
                with self.writes.lock:
                    self.writes.unexpected.append(str(exc))

    def one_user(self, client: httpx.Client, n: int) -> None:
        name = f"w{self.number}_{n}"
        signed_up = client.post(
            "/api/v1/users", json={"email": f"{name}@example.com", "username": name, "password": PASSWORD}
        )
        assert signed_up.status_code == 201, signed_up.text
        with self.writes.lock:
            self.writes.users[signed_up.json()["id"]] = f"{name}@example.com"
        token = log_in(client, name)["access_token"]
        for k in range(ORDERS_PER_USER):
            body = order_body(self.number, n, k)
            with self.writes.lock:
                self.writes.attempted[body["items"][0]["sku"]] = body
            created = client.post(
                f"/api/v1/users/{signed_up.json()['id']}/orders", json=body, headers=bearer(token)
            )
            assert created.status_code == 201, created.text
            with self.writes.lock:
                self.writes.orders[created.json()["id"]] = created.json()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}  # the default: var/gatehouse.db under the working directory
        return
    with fresh_postgres_database() as url:
        yield {"GATEHOUSE_DATABASE_URL": url}


def all_pages(client: httpx.Client, path: str, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in range(1, 1000):
        response = client.get(path, params={"page": page, "page_size": 100}, headers=bearer(token))
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        if page >= response.json()["total_pages"]:
            return items
    raise AssertionError(f"{path}: too many pages")


def test_every_write_answered_2xx_before_a_kill_9_is_there_after_a_restart(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    server = migrated_server(tmp_path, settings=database_env)
    Cli(tmp_path, clean_environment(**database_env)).create("boss@example.com", "boss", "--role", "admin")
    writes = Writes()
    with server:
        server.start()
        writers = [Writer(number, server.url, writes) for number in range(WRITERS)]
        for writer in writers:
            writer.start()
        try:
            wait_for(lambda: writes.answered() >= ANSWERED_BEFORE_KILL, 30, "writes answered before the kill")
        finally:
            server.kill()
            for writer in writers:
                writer.join(timeout=30)
    assert not any(writer.is_alive() for writer in writers)
    assert writes.unexpected == []

    with GatehouseServer(tmp_path, server.settings) as restarted:
        restarted.start()
        with httpx.Client(base_url=restarted.url, timeout=10) as client:
            admin = log_in(client, "boss")["access_token"]
            users = {u["id"]: u["email"] for u in all_pages(client, "/api/v1/users", admin)}
            orders = {
                order["id"]: order
                for uid in writes.users
                if uid in users
                for order in all_pages(client, f"/api/v1/users/{uid}/orders", admin)
            }

    assert {uid: users.get(uid) for uid in writes.users} == writes.users
    missing = sorted(oid for oid in writes.orders if oid not in orders)
    assert missing == []
    changed = [oid for oid, order in writes.orders.items() if orders[oid]["items"] != order["items"]]
    assert changed == []

    def as_sent(order: dict[str, Any]) -> bool:
        first_sku = order["items"][0]["sku"] if order["items"] else None
        sent = writes.attempted.get(first_sku or "")
        return sent is not None and order["items"] == sent["items"]

    half_written = [oid for oid, order in orders.items() if not as_sent(order)]
    assert half_written == []
    wrong_totals = [
        oid
        for oid, order in orders.items()
        if order["total_cents"] != sum(i["quantity"] * i["unit_price_cents"] for i in order["items"])
    ]
    assert wrong_totals == []


def test_mail_queued_before_a_kill_9_is_delivered_after_a_restart(
    tmp_path: Path, database_env: dict[str, str]
) -> None:
    """§10: a crash loses no mail. The SMTP server is unreachable while the sign-ups are
    answered, the process is killed, and the restarted service delivers every mail."""
    unreachable = {**database_env, "GATEHOUSE_SMTP_URL": f"smtp://127.0.0.1:{closed_port()}"}
    names = [f"mailed_{n}" for n in range(5)]
    server = migrated_server(tmp_path, settings=unreachable)
    with server:
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for name in names:
                sign_up(client, name)
        server.kill()

    with SmtpSink() as sink:
        reachable = {**server.settings, "GATEHOUSE_SMTP_URL": sink.url()}
        with GatehouseServer(tmp_path, reachable) as restarted:
            restarted.start()
            # At most two attempts failed before the kill, so each retry is due within 10 s.
            received = sink.wait_for(len(names), timeout_s=40)

    assert sorted(str(mail.message["To"]) for mail in received) == sorted(f"{n}@example.com" for n in names)
    assert all("/account/verify-email?token=" in mail.message.get_content() for mail in received)
