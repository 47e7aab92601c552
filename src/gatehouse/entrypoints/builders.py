"""How the container builds each shared resource: the adapter chosen by the settings, and its
closer registered, so the container can close exactly what it opened (`Resources`)."""

import inspect
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

from gatehouse.adapters.argon2_hasher import Argon2PasswordHasher
from gatehouse.adapters.jwt_tokens import JwtTokenIssuer
from gatehouse.adapters.local_counters import InProcessCounters
from gatehouse.adapters.mail_files import FileMailTransport
from gatehouse.adapters.mail_smtp import SmtpMailTransport
from gatehouse.adapters.redis_counters import FallbackCounters, RedisCounters
from gatehouse.adapters.secret_box import AesGcmSecretBox
from gatehouse.adapters.signing_keys import NoPublishedKeys, SigningKeyRing
from gatehouse.adapters.sqlalchemy.database import Database, DatabaseOptions
from gatehouse.adapters.sqlalchemy.postgres_reads import PostgresUserQueries
from gatehouse.adapters.sqlalchemy.queries import SqlAlchemyUserQueries
from gatehouse.adapters.sqlalchemy.sqlite_reads import SqliteUserQueries
from gatehouse.application.ports.counters import Counters
from gatehouse.application.ports.credentials import PublishedKeys
from gatehouse.application.ports.mail import MailTransport
from gatehouse.application.ports.operations import Reachable
from gatehouse.application.ports.users import UserQueries
from gatehouse.domain.passwords import ClassicPasswordPolicy, NistPasswordPolicy, PasswordPolicy
from gatehouse.entrypoints.common_passwords import load_common_passwords
from gatehouse.entrypoints.settings import Settings


class Resources:
    """What the container opened and must close: each resource registers its closer as it is
    built, so a driver closes exactly what it used (`await close_resources(container)`)."""

    def __init__(self) -> None:
        self._closers: list[Callable[[], Awaitable[None] | None]] = []

    def on_close(self, closer: Callable[[], Awaitable[None] | None]) -> None:
        self._closers.append(closer)

    def __len__(self) -> int:
        """How many resources are open."""
        return len(self._closers)

    async def close(self) -> None:
        """Close in the reverse order of opening; each closer runs once."""
        while self._closers:
            outcome = self._closers.pop()()
            if inspect.isawaitable(outcome):
                await outcome


def open_database(resources: Resources, url: str, options: DatabaseOptions) -> Database:
    database = Database(url, options)
    resources.on_close(database.dispose)
    return database


def open_hasher(
    resources: Resources,
    workers: int,
    max_queue: int,
    niceness: int,
    observe_depth: Callable[[int], None] | None,
) -> Argon2PasswordHasher:
    hasher = Argon2PasswordHasher(
        workers=workers, max_queue=max_queue, observe_depth=observe_depth, niceness=niceness
    )
    resources.on_close(hasher.close)
    return hasher


def open_secret_box(settings: Settings) -> AesGcmSecretBox:
    """Built on first use (as the token issuer), from the data key, never the signing secret."""
    return AesGcmSecretBox(settings.require_data_key())


def password_policy(name: str) -> PasswordPolicy:
    if name == "nist":
        return NistPasswordPolicy(load_common_passwords())
    return ClassicPasswordPolicy()


def token_issuer(settings: Settings, key_ring: SigningKeyRing | None) -> JwtTokenIssuer:
    """Built on first use, so commands that sign nothing never need the secret (nor the keys)."""
    return JwtTokenIssuer(
        settings.require_jwt_secret(),
        previous_secrets=settings.jwt_previous_secrets,
        access_ttl=settings.access_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
        key_ring=key_ring,
    )


def published_keys_for(key_ring: SigningKeyRing | None) -> PublishedKeys:
    return key_ring if key_ring is not None else NoPublishedKeys()


def shared_counters_for(resources: Resources, url: str | None, local: InProcessCounters) -> Counters:
    """Redis when configured (exact across workers and hosts), else this process's counters."""
    if not url:
        return local
    redis = RedisCounters(url)
    resources.on_close(redis.close)
    return redis


def redis_for_readiness(shared: Counters) -> Reachable | None:
    """Redis, when the counters live there: the readiness probe reports on it."""
    return shared if isinstance(shared, RedisCounters) else None


def throttle_counters_for(shared: Counters, local: InProcessCounters) -> Counters:
    """The log-in throttle falls back to per-worker counting while Redis is down."""
    return FallbackCounters(shared, local) if shared is not local else local


def user_queries_for(database: Database) -> UserQueries:
    """SQLite gets the one-hop read path; other engines the portable Core queries."""
    if database.is_sqlite:
        return SqliteUserQueries(database)
    if database.dialect == "postgresql" and database.url.drivername.endswith("asyncpg"):
        return PostgresUserQueries(database)
    return SqlAlchemyUserQueries(database)


def mail_transport_for(settings: Settings) -> MailTransport:
    """SMTP when `GATEHOUSE_SMTP_URL` is set, else `.eml` files in `var/outbox/`."""
    if settings.smtp_url:
        return SmtpMailTransport(settings.smtp_url, settings.mail_from)
    return FileMailTransport(Path(settings.outbox_dir), settings.mail_from)


def worker_name() -> str:
    """Who holds a lease: this host and process (shown in `task_leases.holder`)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:128]
