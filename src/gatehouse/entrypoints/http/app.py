"""Build the ASGI application: Litestar routes over the container, wrapped by the outer middleware."""

from collections.abc import Callable
from typing import Any, TypeVar

from dependency_injector import providers
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.routes import BaseRoute, HTTPRoute
from litestar.static_files import create_static_files_router

from gatehouse.domain.values import Role
from gatehouse.entrypoints.container import Container, close_resources
from gatehouse.entrypoints.housekeeping import HousekeepingTask
from gatehouse.entrypoints.http import account_pages, health
from gatehouse.entrypoints.http.auth import MFA_ROLES_KEY, STATE_KEY
from gatehouse.entrypoints.http.client_ip import parse_networks
from gatehouse.entrypoints.http.cursors import CursorCodec
from gatehouse.entrypoints.http.docs import STATIC_DIR, VENDOR, only_vendored_files, openapi_config
from gatehouse.entrypoints.http.errors import handle_exception
from gatehouse.entrypoints.http.metrics import Metrics, OutboxGauge, RouteTemplates, metrics_endpoint
from gatehouse.entrypoints.http.middleware import GatehouseMiddleware
from gatehouse.entrypoints.http.openapi import package_version
from gatehouse.entrypoints.http.ratelimit import RateLimitMiddleware
from gatehouse.entrypoints.http.request_gate import RequestGate
from gatehouse.entrypoints.http.routes import (
    api_tokens,
    audit,
    auth,
    mfa,
    orders,
    sessions,
    user_lists,
    users,
    well_known,
)
from gatehouse.entrypoints.mail_relay import MailRelay

T = TypeVar("T")
MAX_BODY_BYTES = 1024 * 1024


def bridge(provider: providers.Provider[Any]) -> Provide:
    """A plain function per provider, so Litestar sees an ordinary dependency."""

    def dependency() -> Any:
        return provider()

    return Provide(dependency, sync_to_thread=False)


def dependencies(container: Container, metrics: Metrics) -> dict[str, Provide]:
    """Every provider of the container, by its name: a handler asks for a use case by naming it
    (`login: NamedDependency[Login]`), and Litestar refuses to build the app when a handler names
    one the container does not have."""
    deps = {name: bridge(provider) for name, provider in container.providers.items()}
    settings = container.settings()
    codec = CursorCodec(settings.require_jwt_secret(), settings.jwt_previous_secrets)
    deps["cursors"] = Provide(lambda: codec, sync_to_thread=False)
    deps["metrics"] = Provide(lambda: metrics, sync_to_thread=False)
    gauge = OutboxGauge(container.mail_queue())
    deps["outbox_gauge"] = Provide(lambda: gauge, sync_to_thread=False)
    return deps


class ApiRouter(Router):
    """A router whose paths answer OPTIONS with every method they serve.

    Litestar gives a path one OPTIONS handler, made with the first handler registered there, whose
    `Allow` then omits the methods of the handlers registered later at that path: a list route is
    registered after the routes shared by both versions (`GET /users`, from routes/user_lists.py,
    after `POST /users`, from routes/users.py; `GET` after `POST` on a user's orders). After each
    registration the path's route is built anew without it, so a fresh one lists them all, as the
    405's `Allow` and the document do."""

    def register(self, value: Any) -> list[BaseRoute]:
        rebuilt: list[BaseRoute] = []
        for route in super().register(value):
            if isinstance(route, HTTPRoute):
                handlers = [h for h in route.route_handlers if not _is_implicit_options(h)]
                fresh = HTTPRoute(path=route.path, route_handlers=handlers)
                self.routes[self.routes.index(route)] = fresh
                route = fresh
            rebuilt.append(route)
        return rebuilt


def _is_implicit_options(handler: HTTPRouteHandler) -> bool:
    return handler.handler_name == "options_handler" and set(handler.http_methods) == {"OPTIONS"}


def create_litestar(container: Container, metrics: Metrics) -> Litestar:
    settings = container.settings()
    # The sessions routes come first: `/users/me/sessions` must not be taken for `/users/{id}`.
    shared = [
        *sessions.ROUTES,
        *mfa.ROUTES,
        *api_tokens.ROUTES,
        *users.ROUTES,
        *orders.ROUTES,
        *auth.ROUTES,
        *audit.ROUTES,
    ]
    api_v1 = ApiRouter(path="/api/v1", route_handlers=[*shared, *user_lists.V1_ROUTES, *orders.V1_ROUTES])
    api_v2 = ApiRouter(path="/api/v2", route_handlers=[*shared, *user_lists.V2_ROUTES, *orders.V2_ROUTES])
    cors = CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_credentials=False,
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "X-Request-ID",
            "X-API-Version",
        ],
        expose_headers=[
            "ETag",
            "Location",
            "X-Request-ID",
            "X-API-Version",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ],
    )

    relay = MailRelay(container.deliver_mail, settings.mail_poll_seconds)

    async def open_relay() -> None:
        if settings.mail_poll_seconds > 0:  # 0: mail is sent by `gatehouse mail deliver` alone
            relay.start()

    housekeeping = HousekeepingTask(container.run_housekeeping, settings.housekeeping_seconds)

    async def open_housekeeping() -> None:
        if settings.housekeeping_seconds > 0:  # 0: rows are pruned by `gatehouse db prune` alone
            housekeeping.start()

    async def close() -> None:
        await relay.stop()
        await housekeeping.stop()
        await close_resources(container)

    return Litestar(
        route_handlers=[
            api_v1,
            api_v2,
            *health.ROUTES,
            metrics_endpoint,
            *well_known.ROUTES,
            *account_pages.ROUTES,
            # Only the docs' vendored assets: the account pages serve their own, with their CSP.
            create_static_files_router(
                path=VENDOR,
                directories=[STATIC_DIR / "vendor"],
                include_in_schema=False,
                guards=[only_vendored_files],
            ),
        ],
        dependencies=dependencies(container, metrics),
        exception_handlers={Exception: handle_exception},
        openapi_config=openapi_config(
            package_version(), settings.password_policy, settings.api_token_max_days
        ),
        cors_config=cors if settings.cors_origins else None,
        request_max_body_size=MAX_BODY_BYTES,
        on_startup=[open_relay, open_housekeeping],
        on_shutdown=[close],
        state=State(
            {
                STATE_KEY: container.authenticate(),
                MFA_ROLES_KEY: frozenset(Role(r) for r in settings.mfa_required_roles),
            }
        ),
        logging_config=None,
        debug=False,
    )


def create_app(container: Container) -> Callable[..., Any]:
    """The ASGI callable that `serve` runs and the tests drive:
    outer context (ids, headers, logs, metrics) → rate limit → Litestar."""
    settings = container.settings()
    metrics = Metrics()
    container.hash_depth_observer.override(providers.Object(metrics.hash_queue_depth.set))
    litestar = create_litestar(container, metrics)
    app: Any = RequestGate(litestar)
    if settings.rate_limit_per_minute > 0:
        app = RateLimitMiddleware(app, container.rate_limit())
    trusted = parse_networks(settings.trusted_proxies)
    return GatehouseMiddleware(app, metrics, container.origin(), trusted, RouteTemplates(litestar))
