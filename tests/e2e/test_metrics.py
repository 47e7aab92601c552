"""§7 `/metrics`: Prometheus text with requests by route template, latency, failed log-ins, hash queue."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers
from prometheus_client.parser import text_string_to_metric_families

from gatehouse.adapters.argon2_hasher import Argon2PasswordHasher
from gatehouse.adapters.sqlalchemy.migrate import upgrade
from gatehouse.application.ports.clock import Clock
from gatehouse.entrypoints.container import Container
from gatehouse.entrypoints.http.app import create_app
from tests.conftest import TEST_ARGON2
from tests.databases import ENGINES
from tests.e2e.conftest import Api, database_url, test_settings

REQUESTS = "gatehouse_http_requests_total"
LATENCY = "gatehouse_http_request_duration_seconds"
LOGIN_FAILURES = "gatehouse_login_failures_total"
HASH_QUEUE = "gatehouse_password_hash_queue_depth"
USER_ROUTE = "/api/v1/users/{user_id}"
ME_ROUTE = "/api/v1/users/me"
USERS_ROUTE = "/api/v1/users"
UNMATCHED = "<unmatched>"
LIMIT = 4

Samples = list[tuple[str, dict[str, str], float]]


async def scrape(api: Api) -> Samples:
    response = await api.client.get("/metrics")
    assert response.status_code == 200, response.text
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    ]


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value, 0 when it is not (yet) exposed."""
    found = [v for n, ls, v in samples if n == name and all(ls.get(k) == w for k, w in labels.items())]
    assert len(found) <= 1, found
    return found[0] if found else 0.0


def content_type_parameters(response: httpx.Response) -> list[tuple[str, str]]:
    message = Message()
    message["content-type"] = response.headers["content-type"]
    return [(k.lower(), v) for k, v in (message.get_params() or [])[1:]]


async def test_metrics_is_prometheus_text_exposition(api: Api) -> None:
    response = await api.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "text/plain"
    assert [k for k, _ in content_type_parameters(response)].count("version") == 1
    families = {f.name for f in text_string_to_metric_families(response.text)}
    assert {"gatehouse_http_requests", LATENCY, "gatehouse_login_failures", HASH_QUEUE} <= families


async def test_metrics_content_type_names_its_charset_once(api: Api) -> None:
    # A parameter given twice makes the media type invalid (RFC 9110 §5.6.6), and
    # Prometheus 3 refuses a scrape whose Content-Type it can't parse.
    response = await api.client.get("/metrics")

    charsets = [v for k, v in content_type_parameters(response) if k == "charset"]
    assert charsets == ["utf-8"], response.headers["content-type"]


async def test_requests_are_counted_by_method_route_template_and_status(api: Api) -> None:
    account = await api.create_account()
    other = await api.create_account()
    before = await scrape(api)

    for _ in range(3):
        assert (await api.client.get(f"/api/v1/users/{account.id}", headers=account.auth)).status_code == 200
    forbidden = await api.client.get(f"/api/v1/users/{other.id}", headers=account.auth)
    assert forbidden.status_code == 403
    after = await scrape(api)

    ok = {"method": "GET", "route": USER_ROUTE, "status": "200"}
    denied = {"method": "GET", "route": USER_ROUTE, "status": "403"}
    assert value(after, REQUESTS, **ok) - value(before, REQUESTS, **ok) == 3
    assert value(after, REQUESTS, **denied) - value(before, REQUESTS, **denied) == 1
    raw_paths = {f"/api/v1/users/{account.id}", f"/api/v1/users/{other.id}"}
    assert [ls for _, ls, _ in after if ls.get("route") in raw_paths] == []


async def test_latency_is_a_histogram_per_route_with_cumulative_buckets(api: Api) -> None:
    account = await api.create_account()
    for _ in range(4):
        await api.client.get(f"/api/v1/users/{account.id}", headers=account.auth)

    samples = await scrape(api)

    labels = {"method": "GET", "route": USER_ROUTE}
    buckets = [
        (float(ls["le"]), v)
        for n, ls, v in samples
        if n == f"{LATENCY}_bucket" and all(ls.get(k) == w for k, w in labels.items())
    ]
    bounds = [b for b, _ in buckets]
    assert len(buckets) >= 5
    assert bounds == sorted(bounds)
    assert bounds[-1] == float("inf")
    counts = [c for _, c in buckets]
    assert counts == sorted(counts)
    assert counts[-1] == value(samples, f"{LATENCY}_count", **labels) == 4
    assert value(samples, f"{LATENCY}_sum", **labels) > 0


async def test_unknown_routes_are_labelled_unmatched_not_by_their_raw_path(api: Api) -> None:
    before = await scrape(api)
    paths = ["/api/v1/zz-no-such-route-8431/123", "/totally/unknown-path-5519", "/api/v3/users"]
    for path in paths:
        assert (await api.client.get(path)).status_code == 404

    response = await api.client.get("/metrics")
    after = await scrape(api)

    unmatched = {"method": "GET", "route": UNMATCHED, "status": "404"}
    assert value(after, REQUESTS, **unmatched) - value(before, REQUESTS, **unmatched) == 3
    for path in paths:
        assert path not in response.text


async def test_each_refused_login_increments_login_failures(api: Api) -> None:
    account = await api.create_account()
    before = value(await scrape(api), LOGIN_FAILURES)

    wrong = await api.client.post(
        "/api/v1/auth/token", json={"email": account.email, "password": "Wrong-Horse-9"}
    )
    unknown = await api.client.post(
        "/api/v1/auth/token", json={"email": "nobody@example.com", "password": "Wrong-Horse-9"}
    )
    form = await api.client.post(
        "/api/v1/auth/token", data={"username": account.username, "password": "Wrong-Horse-9"}
    )
    assert [wrong.status_code, unknown.status_code, form.status_code] == [401, 401, 401]
    after_failures = value(await scrape(api), LOGIN_FAILURES)
    await api.login(account.email, account.password)
    after_success = value(await scrape(api), LOGIN_FAILURES)

    assert after_failures - before == 3
    assert after_success == after_failures


async def test_the_hashing_queue_depth_is_exposed_and_idle_at_zero(api: Api) -> None:
    await api.create_account()

    samples = await scrape(api)

    assert [v for n, _, v in samples if n == HASH_QUEUE] == [0.0]


class HeldClock(Clock):
    """The time at creation, held still: the rate limit's one-minute window can't roll over."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC)

    def now(self) -> datetime:
        return self._now


@pytest.fixture(params=ENGINES)
async def limited(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    """The real app over each engine with a rate limit of LIMIT requests a minute."""
    async with database_url(request.param, tmp_path) as url:
        container = Container(settings=test_settings(tmp_path, database_url=url, rate_limit_per_minute=LIMIT))
        container.clock.override(providers.Object(HeldClock()))
        container.hasher.override(
            providers.Singleton(Argon2PasswordHasher, TEST_ARGON2, workers=2, max_queue=64)
        )
        await upgrade(container.database())
        transport = httpx.ASGITransport(app=create_app(container), client=("127.0.0.1", 50000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Api(client, container)
        finally:
            await container.database().dispose()
            container.hasher().close()


async def test_rate_limited_answers_are_counted_under_their_route_template(limited: Api) -> None:
    before = await scrape(limited)  # /metrics is not rate-limited, so scraping costs no budget
    statuses = [(await limited.client.get(ME_ROUTE)).status_code for _ in range(LIMIT + 3)]
    unversioned = await limited.client.get("/users/me")  # the same route, by the header's version
    after = await scrape(limited)

    def counted(status: str) -> float:
        labels = {"method": "GET", "route": ME_ROUTE, "status": status}
        return value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels)

    assert statuses == [401] * LIMIT + [429] * 3
    assert unversioned.status_code == 429
    assert counted("401") == LIMIT
    assert counted("429") == 4
    assert value(after, f"{LATENCY}_count", method="GET", route=ME_ROUTE) == LIMIT + 4


async def test_answers_given_before_routing_are_counted_with_a_bounded_route_label(api: Api) -> None:
    before = await scrape(api)
    too_large = await api.client.get(ME_ROUTE, headers={"X-Padding": "a" * 17 * 1024})
    bad_version = await api.client.get("/users/me", headers={"X-API-Version": "7"})
    oversize_body = await api.client.post(
        USERS_ROUTE,
        content=b"{" + b" " * (1024 * 1024 + 1) + b"}",
        headers={"Content-Type": "application/json"},
    )
    unknown = await api.client.get("/users/zz-no-such-route-7731", headers={"X-API-Version": "7"})
    response = await api.client.get("/metrics")
    after = await scrape(api)

    def counted(method: str, route: str, status: str) -> float:
        labels = {"method": method, "route": route, "status": status}
        return value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels)

    assert [too_large.status_code, bad_version.status_code, oversize_body.status_code] == [431, 400, 413]
    assert unknown.status_code == 400
    assert counted("GET", ME_ROUTE, "431") == 1
    assert counted("POST", USERS_ROUTE, "413") == 1
    assert counted("GET", UNMATCHED, "400") == 2  # no version: no route of either version is meant
    assert "zz-no-such-route-7731" not in response.text
