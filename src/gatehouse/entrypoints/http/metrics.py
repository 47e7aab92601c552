"""Prometheus metrics: requests by route, latency, failed log-ins, the hashing queue, the mail outbox.

With several workers `serve` sets PROMETHEUS_MULTIPROC_DIR, every process writes its samples
there, and a scrape of any worker sums them all.
"""

import os
from collections.abc import Iterator

from litestar import Litestar, Response, get
from litestar.di import NamedDependency
from litestar.utils import normalize_path
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gatehouse.application.errors import ServiceUnavailableError
from gatehouse.application.ports.mail import MailQueue

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "<unmatched>"
# Litestar appends the charset itself; naming it here too would repeat the parameter.
MEDIA_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")


class RouteTemplates:
    """The route template of a request answered before Litestar routed it (a 429, a 431, a 400 for
    the API version): looked up in Litestar's own routing table, whose look-ups it caches. A path
    that matches no route is `UNMATCHED`: a label is never the raw path, so their number is bounded."""

    def __init__(self, app: Litestar) -> None:
        self._router = app.asgi_router

    def __call__(self, method: str, path: str) -> str:
        try:
            *_, template = self._router.handle_routing(path=normalize_path(path), method=method)
        except Exception:  # NotFound, MethodNotAllowed, a path parameter of the wrong type
            return UNMATCHED
        return template or UNMATCHED


class Metrics:
    """One set of collectors per application instance (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gatehouse_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gatehouse_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.login_failures = Counter(
            "gatehouse_login_failures", "Log-ins refused for wrong credentials", registry=self.registry
        )
        self.hash_queue_depth = Gauge(
            "gatehouse_password_hash_queue_depth",
            "Password hashes waiting for a thread",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        template = route or UNMATCHED
        self.requests.labels(method, template, str(status)).inc()
        self.latency.labels(method, template).observe(seconds)
        if status == 401 and template.endswith("/auth/token"):
            self.login_failures.inc()

    def render(self, outbox_depth: int | None = None) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            text = generate_latest(merged)
        else:
            text = generate_latest(self.registry)
        return text + shared_state(outbox_depth)


def shared_state(outbox_depth: int | None) -> bytes:
    """Gauges of state shared by every worker, read at scrape time by the scraped worker alone,
    so they appear once however many workers run (never summed, never stale)."""
    registry = CollectorRegistry()
    registry.register(_Fixed(outbox_depth))
    return generate_latest(registry)


class _Fixed(Collector):
    def __init__(self, outbox_depth: int | None) -> None:
        self._depth = outbox_depth

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily("gatehouse_mail_outbox_depth", "Mails waiting in the outbox to be sent")
        if self._depth is not None:  # the database is down: no sample rather than a wrong one
            gauge.add_metric([], self._depth)
        yield gauge


class OutboxGauge:
    """Reads the outbox depth at scrape time (a concrete class: Litestar checks dependency types)."""

    def __init__(self, queue: MailQueue) -> None:
        self._queue = queue

    async def read(self) -> int | None:
        try:
            return await self._queue.depth()
        except ServiceUnavailableError:
            return None  # the database is down: no sample rather than a wrong one


@get("/metrics", tags=["operations"], summary="Prometheus metrics", media_type=MEDIA_TYPE)
async def metrics_endpoint(
    metrics: NamedDependency[Metrics], outbox_gauge: NamedDependency[OutboxGauge]
) -> Response[bytes]:
    return Response(metrics.render(await outbox_gauge.read()), media_type=MEDIA_TYPE)
