"""Configuration from `GATEHOUSE_*` environment variables and an optional `.env` file."""

import difflib
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool
from redis.exceptions import RedisError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/gatehouse.db"
SECRET_FILE = Path("var/jwt_secret")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "Gatehouse <no-reply@localhost>"
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")
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
# Upper bounds of the numeric settings: far beyond any sensible value, and far below what would
# overflow a datetime, a float or a timer.
TEN_YEARS_S = 10 * 365 * 24 * 3600
ONE_DAY_S = 24 * 3600
ONE_HOUR_S = 3600
# Set by `gatehouse serve` for its workers: where it listens, the default of GATEHOUSE_PUBLIC_URL.
SERVE_URL = "GATEHOUSE_SERVE_URL"
# Read by the test suite, not by Gatehouse; known, so setting them earns no warning.
DEVELOPER_VARIABLES = frozenset({"GATEHOUSE_TEST_POSTGRES_URL", "GATEHOUSE_TEST_REDIS_URL"})


class SettingsError(ValueError):
    """A setting has a value Gatehouse can't use; the message names the variable."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_previous_secrets: tuple[str, ...] = field(default=(), repr=False)
    access_token_ttl: int = 1800
    refresh_token_ttl: int = 1209600
    rate_limit_per_minute: int = 100
    login_max_failures: int = 5
    redis_url: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    slow_query_ms: float = 200.0
    log_level: str = "INFO"
    cors_origins: tuple[str, ...] = ()
    password_policy: str = "classic"  # noqa: S105 - a policy name
    db_pool_size: int = 10
    shutdown_timeout: float = 10.0
    hash_workers: int = 2
    hash_queue: int = 32
    public_url: str = DEFAULT_PUBLIC_URL
    smtp_url: str | None = field(default=None, repr=False)  # may carry a password
    mail_from: str = DEFAULT_MAIL_FROM
    require_verified_email: bool = False
    audit_retention_days: int = 365
    outbox_dir: str = "var/outbox"
    mail_poll_seconds: float = 1.0
    housekeeping_seconds: float = 3600.0
    # One line per GATEHOUSE_* variable Gatehouse does not know (a typo?): the CLI prints them.
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def require_jwt_secret(self) -> str:
        """The signing secret; `serve` calls this and refuses to start without a strong one."""
        if self.jwt_secret is None:
            raise SettingsError(
                f"GATEHOUSE_JWT_SECRET is not set and {SECRET_FILE} does not exist "
                "(make run creates a development secret there)"
            )
        if len(self.jwt_secret.encode()) < 32:
            raise SettingsError("GATEHOUSE_JWT_SECRET must be at least 32 bytes")
        if any(len(old.encode()) < 32 for old in self.jwt_previous_secrets):
            raise SettingsError("every GATEHOUSE_JWT_PREVIOUS_SECRETS entry must be at least 32 bytes")
        return self.jwt_secret


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    """Read settings; the process environment wins over `.env`. A bad value raises `SettingsError`
    naming its variable; a `GATEHOUSE_*` variable that is read nowhere becomes a warning."""
    env = {**_read_dotenv(dotenv), **(os.environ if environ is None else environ)}
    known = set(DEVELOPER_VARIABLES)

    def get(name: str) -> str | None:
        known.add(f"GATEHOUSE_{name}")
        value = env.get(f"GATEHOUSE_{name}")
        return value.strip() if value is not None and value.strip() != "" else None

    policy = get("PASSWORD_POLICY") or "classic"
    if policy not in ("classic", "nist"):
        raise SettingsError("GATEHOUSE_PASSWORD_POLICY must be 'classic' or 'nist'")
    settings = Settings(
        database_url=_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
        jwt_secret=get("JWT_SECRET") or _read_secret_file(),
        jwt_previous_secrets=_split(get("JWT_PREVIOUS_SECRETS")),
        access_token_ttl=_int(get, "ACCESS_TOKEN_TTL", 1800, 1, TEN_YEARS_S, "seconds (10 years)"),
        refresh_token_ttl=_int(get, "REFRESH_TOKEN_TTL", 1209600, 1, TEN_YEARS_S, "seconds (10 years)"),
        rate_limit_per_minute=_int(get, "RATE_LIMIT_PER_MINUTE", 100, 0, 1_000_000),
        login_max_failures=_int(get, "LOGIN_MAX_FAILURES", 5, 0, 10_000),
        redis_url=_redis_url(get("REDIS_URL")),
        trusted_proxies=_networks(_split(get("TRUSTED_PROXIES"))),
        slow_query_ms=float(_int(get, "SLOW_QUERY_MS", 200, 0, ONE_HOUR_S * 1000, "milliseconds (an hour)")),
        log_level=_log_level(get("LOG_LEVEL") or "INFO"),
        cors_origins=_split(get("CORS_ORIGINS")),
        password_policy=policy,
        db_pool_size=_int(get, "DB_POOL_SIZE", 10, 1, 1000),
        shutdown_timeout=float(_int(get, "SHUTDOWN_TIMEOUT", 10, 0, ONE_HOUR_S, "seconds (an hour)")),
        hash_workers=_int(get, "HASH_WORKERS", 2, 1, 256),
        hash_queue=_int(get, "HASH_QUEUE", 32, 0, 100_000),
        public_url=_public_url(get("PUBLIC_URL") or get("SERVE_URL") or DEFAULT_PUBLIC_URL),
        smtp_url=_smtp_url(get("SMTP_URL")),
        mail_from=_mail_from(get("MAIL_FROM") or DEFAULT_MAIL_FROM),
        require_verified_email=_bool(get, "REQUIRE_VERIFIED_EMAIL"),
        audit_retention_days=_int(get, "AUDIT_RETENTION_DAYS", 365, 1, 36_500, "days (100 years)"),
        mail_poll_seconds=float(_int(get, "MAIL_POLL_SECONDS", 1, 0, ONE_DAY_S, "seconds (a day)")),
        housekeeping_seconds=float(_int(get, "HOUSEKEEPING_SECONDS", 3600, 0, ONE_DAY_S, "seconds (a day)")),
    )
    unknown = sorted(name for name in env if name.startswith("GATEHOUSE_") and name not in known)
    return replace(settings, warnings=tuple(_unknown_variable(name, known) for name in unknown))


def serve_url(host: str, port: int) -> str:
    """`http://{host}:{port}` of a listening server (an IPv6 host in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _unknown_variable(name: str, known: set[str]) -> str:
    """Compared without the common `GATEHOUSE_` prefix, which would make every name look close."""
    candidates = {k.removeprefix("GATEHOUSE_"): k for k in known - DEVELOPER_VARIABLES - {SERVE_URL}}
    guess = difflib.get_close_matches(name.removeprefix("GATEHOUSE_"), sorted(candidates), n=1)
    hint = f" (did you mean {candidates[guess[0]]}?)" if guess else ""
    return f"{name} is not a Gatehouse setting and is ignored{hint}"


def _database_url(raw: str) -> str:
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


def _redis_url(raw: str | None) -> str | None:
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


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"GATEHOUSE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw!r}")
    return level


def _networks(entries: tuple[str, ...]) -> tuple[str, ...]:
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"GATEHOUSE_TRUSTED_PROXIES: {entry!r} is not an IP address or network (CIDR)"
            ) from None
    return entries


def _bool(get: Callable[[str], str | None], name: str) -> bool:
    raw = (get(name) or "false").lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"GATEHOUSE_{name} must be true or false")


def _mail_from(raw: str) -> str:
    _, address = parseaddr(raw)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or "\n" in raw or "\r" in raw:
        raise SettingsError("GATEHOUSE_MAIL_FROM must be an address, e.g. 'Gatehouse <no-reply@example.com>'")
    return raw


def _public_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError("GATEHOUSE_PUBLIC_URL must be an http:// or https:// URL")
    return raw.rstrip("/")


def _smtp_url(raw: str | None) -> str | None:
    """Checked here so a typo stops the start; the message never repeats the URL (it may hold a password)."""
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        ok = parts.scheme in SMTP_SCHEMES and bool(parts.hostname)
        _ = parts.port
    except ValueError:
        ok = False
    if not ok:
        raise SettingsError(
            "GATEHOUSE_SMTP_URL must look like smtp://[user:password@]host[:port] "
            "(or smtp+starttls://, smtps://)"
        )
    return raw


def _int(
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


def _split(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


def _read_secret_file() -> str | None:
    try:
        return SECRET_FILE.read_text().strip() or None
    except OSError:
        return None


def _read_dotenv(path: Path | None) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; optional quotes stripped."""
    if path is None or not path.is_file():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values
