"""`gatehouse serve --workers 2` (§11) on PostgreSQL and Redis: a rate limit of L lets exactly L
requests through in total, whichever worker answers, and /metrics sums both workers.

Each worker writes its metric samples to a file of its own (prometheus-client's multiprocess
mode); the tests read those files only to check their own precondition, that both workers
really served some of the requests.
"""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.gatehouse_server import GatehouseServer, bearer, log_in, migrated_server, sign_up, wait_for
from tests.mail_server import closed_port
from tests.servers import fresh_postgres_database, own_redis_db

LIMIT = 20
ME = "/api/v1/users/me"
CONCURRENCY = 8


def fresh_connections(server: GatehouseServer, client_ip: str) -> httpx.Client:
    """A client that opens a new connection per request, as client `client_ip` (via the proxy header)."""
    return httpx.Client(
        base_url=server.url,
        timeout=12,
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"X-Forwarded-For": client_ip},
    )


def requests_by_worker(server: GatehouseServer, route: str) -> dict[str, float]:
    """Requests to `route` each worker has counted, read from the worker's own sample file."""
    counts: dict[str, float] = {}
    for path in server.cwd.glob("tmp/gatehouse-metrics-*/counter_*.db"):
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True):  # type: ignore[no-untyped-call]
            if metric.name == "gatehouse_http_requests":
                total = sum(s.value for s in metric.samples if s.labels.get("route") == route)
                counts[path.stem] = counts.get(path.stem, 0) + total
    return counts


def scraped_total(scrape: httpx.Response, route: str, status: str) -> float:
    """The sum over workers, as one scrape reports it, of requests to `route` answered `status`."""
    assert scrape.status_code == 200, scrape.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(scrape.text)
        if family.name == "gatehouse_http_requests"
        for sample in family.samples
        if sample.name.endswith("_total")
        and (sample.labels.get("route"), sample.labels.get("status")) == (route, status)
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatehouseServer]:
    with fresh_postgres_database() as database_url, own_redis_db() as redis_url:
        running = migrated_server(
            tmp_path_factory.mktemp("workers"),
            workers=2,
            GATEHOUSE_DATABASE_URL=database_url,
            GATEHOUSE_REDIS_URL=redis_url,
            GATEHOUSE_RATE_LIMIT_PER_MINUTE=str(LIMIT),
            GATEHOUSE_TRUSTED_PROXIES="127.0.0.1",
            # Nothing listens there: mails stay in the outbox, so its depth is a stable number.
            GATEHOUSE_SMTP_URL=f"smtp://127.0.0.1:{closed_port()}",
        )
        with running:
            running.start()
            yield running


def test_two_workers_with_redis_let_exactly_the_limit_through_in_total(server: GatehouseServer) -> None:
    wait_for(lambda: time.time() % 60 < 55, 10, "a minute with room for the run", poll_s=0.2)
    first_window = int(time.time() // 60)
    with fresh_connections(server, "10.0.0.1") as client, ThreadPoolExecutor(CONCURRENCY) as pool:
        before = client.get("/metrics")  # not rate-limited: scraping costs no budget
        statuses = list(pool.map(lambda _: client.get(ME).status_code, range(3 * LIMIT)))
        # §7: every answer is counted, the 429s too, under the route's template.
        expected = {"401": float(statuses.count(401)), "429": float(statuses.count(429))}
        for _ in range(50):  # each worker counts an answer just after sending it: poll (bounded)
            scrape = client.get("/metrics")
            counted = {s: scraped_total(scrape, ME, s) - scraped_total(before, ME, s) for s in expected}
            if counted == expected:
                break
            time.sleep(0.1)
    last_window = int(time.time() // 60)

    served = requests_by_worker(server, ME)  # its 401s and its 429s alike
    assert len([n for n in served.values() if n > 0]) == 2, f"precondition: both workers serve ({served})"
    passed = [s for s in statuses if s != 429]
    assert set(passed) == {401}, statuses
    assert counted == expected
    if first_window == last_window:
        assert len(passed) == LIMIT
    else:  # the run straddled a minute: each window allows L
        assert LIMIT <= len(passed) <= 2 * LIMIT


def test_metrics_of_two_workers_add_up_whichever_worker_answers_the_scrape(server: GatehouseServer) -> None:
    calls = 12
    with fresh_connections(server, "10.0.0.2") as client:
        sign_up(client, "counted")
        token = log_in(client, "counted")["access_token"]
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            statuses = list(
                pool.map(lambda _: client.get(ME, headers=bearer(token)).status_code, range(calls))
            )
        assert statuses == [200] * calls
        totals: list[float] = []
        for _ in range(10):  # scrape until each worker has answered at least one scrape (bounded)
            with ThreadPoolExecutor(4) as pool:
                scrapes = list(pool.map(lambda _: client.get("/metrics"), range(4)))
            totals += [scraped_total(scrape, ME, "200") for scrape in scrapes]
            if len(requests_by_worker(server, "/metrics")) == 2:
                break

    assert len(requests_by_worker(server, "/metrics")) == 2, "precondition: both workers answered a scrape"
    assert sum(requests_by_worker(server, ME).values()) >= calls
    assert totals == [calls] * len(totals)


def outbox_depths(scrape: httpx.Response) -> list[float]:
    assert scrape.status_code == 200, scrape.text
    return [
        sample.value
        for family in text_string_to_metric_families(scrape.text)
        if family.name == "gatehouse_mail_outbox_depth"
        for sample in family.samples
    ]


def test_the_outbox_depth_is_reported_once_and_alike_by_every_worker(server: GatehouseServer) -> None:
    with fresh_connections(server, "10.0.0.3") as client:
        for name in ("mailed_a", "mailed_b", "mailed_c"):
            sign_up(client, name)  # each sign-up queues a verification mail that can't be sent
        depths: list[list[float]] = []
        for _ in range(10):  # scrape until each worker has answered at least one scrape (bounded)
            with ThreadPoolExecutor(4) as pool:
                depths += [outbox_depths(s) for s in pool.map(lambda _: client.get("/metrics"), range(4))]
            if len(requests_by_worker(server, "/metrics")) == 2:
                break

    assert len(requests_by_worker(server, "/metrics")) == 2, "precondition: both workers answered a scrape"
    assert all(len(d) == 1 for d in depths), depths  # one sample per scrape, never one per worker
    assert len({d[0] for d in depths}) == 1, depths  # the same shared number from either worker
    assert depths[0][0] >= 3


def test_two_workers_with_redis_log_no_warning_that_each_counts_alone(server: GatehouseServer) -> None:
    assert server.events("counters_not_shared") == []


def test_two_workers_without_redis_warn_at_start_that_each_counts_alone_and_exit_0(tmp_path: Path) -> None:
    server = migrated_server(tmp_path, workers=2, GATEHOUSE_RATE_LIMIT_PER_MINUTE="10")
    with server:
        server.start()
        exit_code = server.stop()

    [warning] = server.events("counters_not_shared")
    assert warning["level"] == "WARNING"
    assert warning["workers"] == 2
    assert exit_code == 0, server.output()[-2000:]
