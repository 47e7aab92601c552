"""§7 `/metrics`: Prometheus text with requests by route template, latency, failed log-ins, hash queue."""

from email.message import Message

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Api

REQUESTS = "gatehouse_http_requests_total"
LATENCY = "gatehouse_http_request_duration_seconds"
LOGIN_FAILURES = "gatehouse_login_failures_total"
HASH_QUEUE = "gatehouse_password_hash_queue_depth"
USER_ROUTE = "/api/v1/users/{user_id}"
UNMATCHED = "<unmatched>"

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
