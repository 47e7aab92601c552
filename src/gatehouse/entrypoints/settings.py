"""Configuration from `GATEHOUSE_*` environment variables and an optional `.env` file."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from gatehouse.entrypoints.settings_checks import (
    SettingsError as SettingsError,  # defined beside the checks that raise it; importers find it here
)
from gatehouse.entrypoints.settings_checks import (
    ignored_key_settings,
    parse_bool,
    parse_database_url,
    parse_int,
    parse_jwt_algorithm,
    parse_list,
    parse_log_level,
    parse_mail_from,
    parse_networks,
    parse_public_url,
    parse_redis_url,
    parse_roles,
    parse_smtp_url,
    unknown_variable,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/gatehouse.db"
SECRET_FILE = Path("var/jwt_secret")
PRIVATE_KEY_FILE = Path("var/jwt_private.pem")  # read by key_settings.py, written by `keys generate`
DATA_KEY_FILE = Path("var/data_key")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "Gatehouse <no-reply@localhost>"
# Upper bounds of the numeric settings: far beyond any sensible value, and far below what would
# overflow a datetime, a float or a timer.
TEN_YEARS_S = 10 * 365 * 24 * 3600
ONE_DAY_S = 24 * 3600
ONE_HOUR_S = 3600
# Set by `gatehouse serve` for its workers: where it listens, the default of GATEHOUSE_PUBLIC_URL.
SERVE_URL = "GATEHOUSE_SERVE_URL"
# Read by the test suite, not by Gatehouse; known, so setting them earns no warning.
DEVELOPER_VARIABLES = frozenset({"GATEHOUSE_TEST_POSTGRES_URL", "GATEHOUSE_TEST_REDIS_URL"})


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_previous_secrets: tuple[str, ...] = field(default=(), repr=False)
    jwt_algorithm: str = "HS256"
    jwt_private_key: str | None = field(default=None, repr=False)  # PEM; unset: PRIVATE_KEY_FILE
    jwt_previous_keys: tuple[str, ...] = ()  # paths of PEM files
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
    hash_niceness: int = 10
    public_url: str = DEFAULT_PUBLIC_URL
    smtp_url: str | None = field(default=None, repr=False)  # may carry a password
    mail_from: str = DEFAULT_MAIL_FROM
    require_verified_email: bool = False
    audit_retention_days: int = 365
    outbox_dir: str = "var/outbox"
    mail_poll_seconds: float = 1.0
    housekeeping_seconds: float = 3600.0
    data_key: str | None = field(default=None, repr=False)
    mfa_required_roles: tuple[str, ...] = ()
    api_token_max_days: int = 365
    # One line per GATEHOUSE_* variable Gatehouse does not know (a typo?), or does not read with
    # the other settings given (a key with HS256): the CLI prints them.
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

    def require_data_key(self) -> str:
        """The key that seals secrets at rest (TOTP secrets); `serve` refuses to start without a
        strong one, and it may never be the signing secret."""
        if self.data_key is None:
            raise SettingsError(
                f"GATEHOUSE_DATA_KEY is not set and {DATA_KEY_FILE} does not exist "
                "(make run creates a development key there)"
            )
        if len(self.data_key.encode()) < 32:
            raise SettingsError("GATEHOUSE_DATA_KEY must be at least 32 bytes")
        if self.data_key in (self.jwt_secret, *self.jwt_previous_secrets):
            raise SettingsError("GATEHOUSE_DATA_KEY must not be a signing secret: give it a key of its own")
        return self.data_key


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
        database_url=parse_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
        jwt_secret=get("JWT_SECRET") or _read_secret_file(SECRET_FILE),
        data_key=get("DATA_KEY") or _read_secret_file(DATA_KEY_FILE),
        mfa_required_roles=parse_roles(get("MFA_REQUIRED_ROLES")),
        jwt_previous_secrets=parse_list(get("JWT_PREVIOUS_SECRETS")),
        jwt_algorithm=parse_jwt_algorithm(get("JWT_ALGORITHM")),
        jwt_private_key=get("JWT_PRIVATE_KEY"),
        jwt_previous_keys=parse_list(get("JWT_PREVIOUS_KEYS")),
        access_token_ttl=parse_int(get, "ACCESS_TOKEN_TTL", 1800, 1, TEN_YEARS_S, "seconds (10 years)"),
        refresh_token_ttl=parse_int(get, "REFRESH_TOKEN_TTL", 1209600, 1, TEN_YEARS_S, "seconds (10 years)"),
        rate_limit_per_minute=parse_int(get, "RATE_LIMIT_PER_MINUTE", 100, 0, 1_000_000),
        login_max_failures=parse_int(get, "LOGIN_MAX_FAILURES", 5, 0, 10_000),
        redis_url=parse_redis_url(get("REDIS_URL")),
        trusted_proxies=parse_networks(parse_list(get("TRUSTED_PROXIES"))),
        slow_query_ms=float(
            parse_int(get, "SLOW_QUERY_MS", 200, 0, ONE_HOUR_S * 1000, "milliseconds (an hour)")
        ),
        log_level=parse_log_level(get("LOG_LEVEL") or "INFO"),
        cors_origins=parse_list(get("CORS_ORIGINS")),
        password_policy=policy,
        db_pool_size=parse_int(get, "DB_POOL_SIZE", 10, 1, 1000),
        shutdown_timeout=float(parse_int(get, "SHUTDOWN_TIMEOUT", 10, 0, ONE_HOUR_S, "seconds (an hour)")),
        hash_workers=parse_int(get, "HASH_WORKERS", 2, 1, 256),
        hash_queue=parse_int(get, "HASH_QUEUE", 32, 0, 100_000),
        hash_niceness=parse_int(get, "HASH_NICENESS", 10, 0, 19),
        public_url=parse_public_url(get("PUBLIC_URL") or get("SERVE_URL") or DEFAULT_PUBLIC_URL),
        smtp_url=parse_smtp_url(get("SMTP_URL")),
        mail_from=parse_mail_from(get("MAIL_FROM") or DEFAULT_MAIL_FROM),
        require_verified_email=parse_bool(get, "REQUIRE_VERIFIED_EMAIL"),
        audit_retention_days=parse_int(get, "AUDIT_RETENTION_DAYS", 365, 1, 36_500, "days (100 years)"),
        api_token_max_days=parse_int(get, "API_TOKEN_MAX_DAYS", 365, 1, 3650, "days (10 years)"),
        mail_poll_seconds=float(parse_int(get, "MAIL_POLL_SECONDS", 1, 0, ONE_DAY_S, "seconds (a day)")),
        housekeeping_seconds=float(
            parse_int(get, "HOUSEKEEPING_SECONDS", 3600, 0, ONE_DAY_S, "seconds (a day)")
        ),
    )
    unknown = sorted(name for name in env if name.startswith("GATEHOUSE_") and name not in known)
    candidates = known - DEVELOPER_VARIABLES - {SERVE_URL}  # never hint at a test or `serve` variable
    ignored = ignored_key_settings(settings.jwt_algorithm, get)
    return replace(settings, warnings=(*(unknown_variable(name, candidates) for name in unknown), *ignored))


def serve_url(host: str, port: int) -> str:
    """`http://{host}:{port}` of a listening server (an IPv6 host in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _read_secret_file(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
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
