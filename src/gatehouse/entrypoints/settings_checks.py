"""The checks behind `load_settings`: each turns one raw `GATEHOUSE_*` value into what `Settings`
holds, or raises `SettingsError` naming the variable (never repeating a value that may hold a
password); and the warning for a `GATEHOUSE_*` variable Gatehouse does not read."""

import difflib
import ipaddress
from collections.abc import Callable
from email.utils import parseaddr
from urllib.parse import parse_qsl, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool
from redis.exceptions import RedisError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from gatehouse.adapters import mail_smtp

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ASYNC_URL_EXAMPLES = "sqlite+aiosqlite:///var/gatehouse.db or postgresql+asyncpg://user@host/db"
# The query parameters of a postgresql+asyncpg URL that both of its paths take: the engine (which
# turns libpq's `sslmode` into asyncpg's `ssl`) and the read pool (asyncpg's own DSN parser).
# Anything else would fail at the first connection, so it is refused at start.
ASYNCPG_QUERY_PARAMETERS = ("sslmode", "target_session_attrs", "passfile", "krbsrvname", "gsslib", "host")
# The values asyncpg takes for the parameters that take a choice (libpq's own).
ASYNCPG_QUERY_CHOICES = {
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "target_session_attrs": ("any", "primary", "standby", "prefer-standby", "read-write", "read-only"),
}
REDIS_SCHEMES = ("redis", "rediss", "unix")
REDIS_URL_EXAMPLE = "redis://127.0.0.1:6379/0 (or rediss://…, unix:///path/to/socket)"
JWT_ALGORITHMS = ("HS256", "EdDSA", "ES256")


class SettingsError(ValueError):
    """A setting has a value Gatehouse can't use; the message names the variable."""


def unknown_variable(name: str, candidates: set[str]) -> str:
    """The warning for `name`, with the closest of `candidates` as a hint. Compared without the
    common `GATEHOUSE_` prefix, which would make every name look close."""
    names = {k.removeprefix("GATEHOUSE_"): k for k in candidates}
    guess = difflib.get_close_matches(name.removeprefix("GATEHOUSE_"), sorted(names), n=1)
    hint = f" (did you mean {names[guess[0]]}?)" if guess else ""
    return f"{name} is not a Gatehouse setting and is ignored{hint}"


def parse_database_url(raw: str) -> str:
    """Any SQLAlchemy URL with an installed async driver. Messages name the driver only: the URL
    may hold a password."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise SettingsError(
            f"GATEHOUSE_DATABASE_URL is not a database URL (e.g. {ASYNC_URL_EXAMPLES})"
        ) from None
    try:
        dialect = url.get_dialect()
    except ArgumentError:  # NoSuchModuleError: no such dialect or driver
        raise SettingsError(
            f"GATEHOUSE_DATABASE_URL names an unknown database driver {url.drivername!r} "
            f"(use {ASYNC_URL_EXAMPLES})"
        ) from None
    if not dialect.is_async:
        raise SettingsError(
            f"GATEHOUSE_DATABASE_URL names {url.drivername!r}, a synchronous driver ({dialect.driver}); "
            f"Gatehouse needs an async one: {ASYNC_URL_EXAMPLES}"
        )
    try:
        dialect.import_dbapi()
    except ImportError:
        raise SettingsError(
            f"GATEHOUSE_DATABASE_URL names the driver {url.drivername!r}, which is not installed "
            f"(use {ASYNC_URL_EXAMPLES})"
        ) from None
    if dialect.name == "sqlite" and _sqlite_in_memory(url):
        raise SettingsError(
            "GATEHOUSE_DATABASE_URL: an in-memory SQLite database can't be shared by connections; "
            "name a file (e.g. sqlite+aiosqlite:///var/gatehouse.db)"
        )
    if dialect.driver == "asyncpg":
        _check_asyncpg_query(url)
    return raw


def _sqlite_in_memory(url: URL) -> bool:
    """`sqlite://`, `/:memory:`, or an SQLite URI filename (`uri=true`) that asks for memory."""
    database = url.database or ""
    return (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or "memory" in _values(url, "mode")
    )


def _check_asyncpg_query(url: URL) -> None:
    """Names the parameters only: a value might be a password."""
    unknown = sorted(set(url.query) - set(ASYNCPG_QUERY_PARAMETERS))
    if unknown:
        hint = " (for TLS use sslmode=…)" if "ssl" in unknown else ""
        raise SettingsError(
            f"GATEHOUSE_DATABASE_URL has query parameters Gatehouse can't pass to asyncpg: "
            f"{', '.join(unknown)}{hint}; it takes {', '.join(ASYNCPG_QUERY_PARAMETERS)}"
        )
    repeated = sorted(name for name in url.query if name != "host" and len(_values(url, name)) > 1)
    if repeated:
        raise SettingsError(f"GATEHOUSE_DATABASE_URL gives {', '.join(repeated)} more than once")
    for name, choices in ASYNCPG_QUERY_CHOICES.items():
        if any(value not in choices for value in _values(url, name)):
            raise SettingsError(f"GATEHOUSE_DATABASE_URL: {name} must be one of {', '.join(choices)}")


def _values(url: URL, name: str) -> tuple[str, ...]:
    """A query parameter's values: SQLAlchemy gives one as a string, several as a tuple."""
    value = url.query.get(name, ())
    return (value,) if isinstance(value, str) else tuple(value)


def parse_redis_url(raw: str | None) -> str | None:
    """Checked here with redis's own URL parser (and the connection it would configure, built but
    never connected), so a typo stops the start rather than every request; the message never
    repeats the URL (it may hold a password)."""
    if raw is None:
        return None
    problem = _redis_url_problem(raw)
    if problem is not None:
        raise SettingsError(f"GATEHOUSE_REDIS_URL {problem}; e.g. {REDIS_URL_EXAMPLE}")
    return raw


def _redis_url_problem(raw: str) -> str | None:
    try:
        parts = urlsplit(raw)
    except ValueError:  # e.g. an unclosed [IPv6] bracket
        return "is not a URL"
    if parts.scheme not in REDIS_SCHEMES:
        return "must start with redis://, rediss:// or unix://"
    try:
        port = parts.port
    except ValueError:  # no number, or above 65535
        port = 0
    if port == 0:
        return "has a port that is not a number from 1 to 65535"
    if parts.scheme == "unix" and not parts.path:
        return "names no socket path after unix://"
    db = unquote(parts.path).replace("/", "")
    if parts.scheme != "unix" and db and not (db.isascii() and db.isdigit()):
        return "has a database number that is not a whole number"  # redis would quietly use 0
    try:
        pool = BlockingConnectionPool.from_url(raw)
        pool.connection_class(**pool.connection_kwargs)
    except TypeError as exc:  # a query parameter the connection does not take; redis names it
        names = [
            name for name, _ in parse_qsl(parts.query, keep_blank_values=True) if f"'{name}'" in str(exc)
        ]
        return f"has a query parameter redis does not take: {', '.join(names) or 'unknown'}"
    except (ValueError, RedisError) as exc:
        reason = str(exc).replace(parts.password, "***") if parts.password else str(exc)
        return f"is not a usable Redis URL: {reason.rstrip('.')}"
    return None


def parse_log_level(raw: str) -> str:
    level = raw.upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"GATEHOUSE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw!r}")
    return level


def parse_jwt_algorithm(raw: str | None) -> str:
    """One of `JWT_ALGORITHMS`, in any case, spelled as JOSE spells it."""
    spelled = {name.lower(): name for name in JWT_ALGORITHMS}.get((raw or "HS256").lower())
    if spelled is None:
        raise SettingsError(
            f"GATEHOUSE_JWT_ALGORITHM must be one of {', '.join(JWT_ALGORITHMS)}, not {raw!r}"
        )
    return spelled


def ignored_key_settings(algorithm: str, get: Callable[[str], str | None]) -> tuple[str, ...]:
    """A warning for each key setting that HS256 does not read: a key set without the algorithm
    that uses it is more likely a forgotten GATEHOUSE_JWT_ALGORITHM than a wish."""
    if algorithm != "HS256":
        return ()
    return tuple(
        f"GATEHOUSE_{name} is ignored: GATEHOUSE_JWT_ALGORITHM is HS256 (tokens are signed with the secret)"
        for name in ("JWT_PRIVATE_KEY", "JWT_PREVIOUS_KEYS")
        if get(name) is not None
    )


def parse_networks(entries: tuple[str, ...]) -> tuple[str, ...]:
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"GATEHOUSE_TRUSTED_PROXIES: {entry!r} is not an IP address or network (CIDR)"
            ) from None
    return entries


def parse_bool(get: Callable[[str], str | None], name: str) -> bool:
    raw = (get(name) or "false").lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"GATEHOUSE_{name} must be true or false")


def parse_mail_from(raw: str) -> str:
    _, address = parseaddr(raw)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or "\n" in raw or "\r" in raw:
        raise SettingsError("GATEHOUSE_MAIL_FROM must be an address, e.g. 'Gatehouse <no-reply@example.com>'")
    return raw


def parse_public_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError("GATEHOUSE_PUBLIC_URL must be an http:// or https:// URL")
    return raw.rstrip("/")


def parse_smtp_url(raw: str | None) -> str | None:
    """Checked by the SMTP transport's own parser, so what the relay would refuse stops the start,
    with the parser's reason (which never repeats the URL: it may hold a password)."""
    if raw is None:
        return None
    try:
        mail_smtp.parse_smtp_url(raw)
    except ValueError as exc:
        raise SettingsError(f"GATEHOUSE_SMTP_URL: {exc}") from None
    return raw


def parse_int(
    get: Callable[[str], str | None], name: str, default: int, minimum: int, maximum: int, unit: str = ""
) -> int:
    """A whole number within bounds; the message says them, never the (perhaps huge) value."""
    raw = get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:  # not a number, or one of more than 4300 digits
        value = None
    if value is None or not minimum <= value <= maximum:
        raise SettingsError(
            f"GATEHOUSE_{name} must be a whole number from {minimum} to {maximum}{' ' if unit else ''}{unit}"
        )
    return value


def parse_list(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


ROLES = ("admin", "moderator", "user")


def parse_roles(raw: str | None) -> tuple[str, ...]:
    """`GATEHOUSE_MFA_REQUIRED_ROLES`: comma-separated role names, each known."""
    roles = tuple(dict.fromkeys(r.lower() for r in parse_list(raw)))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise SettingsError(
            f"GATEHOUSE_MFA_REQUIRED_ROLES: unknown role {unknown[0][:40]!r} (roles: {', '.join(ROLES)})"
        )
    return roles
