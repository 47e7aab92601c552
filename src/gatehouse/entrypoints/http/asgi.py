"""The ASGI factory the server runs in each worker: settings from the environment."""

from collections.abc import Callable
from typing import Any

from gatehouse.entrypoints.container import Container
from gatehouse.entrypoints.http.app import create_app
from gatehouse.entrypoints.logs import configure_logging
from gatehouse.entrypoints.settings import load_settings


def create() -> Callable[..., Any]:
    settings = load_settings()
    configure_logging(settings.log_level)
    settings.require_jwt_secret()
    settings.require_data_key()
    return create_app(Container(settings=settings))
