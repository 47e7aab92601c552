"""load_settings over an explicit environment and a real `.env` file (CONTRACT §1)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gatehouse.adapters.sqlalchemy.database import asyncpg_connect_args
from gatehouse.entrypoints.settings import TEN_YEARS_S, Settings, SettingsError, load_settings, serve_url

INTEGER_VARIABLES = [
    "ACCESS_TOKEN_TTL",
    "REFRESH_TOKEN_TTL",
    "RATE_LIMIT_PER_MINUTE",
    "LOGIN_MAX_FAILURES",
    "SLOW_QUERY_MS",
    "DB_POOL_SIZE",
    "SHUTDOWN_TIMEOUT",
]


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative defaults (`var/jwt_secret`, `.env`) resolve inside tmp_path, not the checkout."""
    monkeypatch.chdir(tmp_path)


def _load(environ: dict[str, str], dotenv_text: str | None = None) -> Settings:
    dotenv = Path(".env")
    if dotenv_text is not None:
        dotenv.write_text(dotenv_text)
    return load_settings(environ, dotenv=dotenv)


def test_defaults_match_the_contract_table() -> None:
    settings = _load({})

    assert settings.database_url == "sqlite+aiosqlite:///var/gatehouse.db"
    assert settings.jwt_secret is None
    assert (settings.access_token_ttl, settings.refresh_token_ttl) == (1800, 1209600)
    assert (settings.rate_limit_per_minute, settings.login_max_failures) == (100, 5)
    assert settings.redis_url is None
    assert settings.trusted_proxies == ()
    assert settings.slow_query_ms == 200
    assert settings.log_level == "INFO"
    assert settings.cors_origins == ()
    assert settings.password_policy == "classic"
    assert settings.db_pool_size == 10
    assert settings.jwt_previous_secrets == ()
    assert settings.shutdown_timeout == 10


def test_mail_and_audit_defaults_match_the_contract_table() -> None:
    settings = _load({})

    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.smtp_url is None
    assert settings.mail_from == "Gatehouse <no-reply@localhost>"
    assert settings.require_verified_email is False
    assert settings.audit_retention_days == 365


def test_mail_and_audit_settings_are_read_from_the_environment() -> None:
    settings = _load(
        {
            "GATEHOUSE_PUBLIC_URL": "https://id.example.com/",
            "GATEHOUSE_SMTP_URL": "smtp+starttls://mailer:s3cret@mail.example.com:2525",
            "GATEHOUSE_MAIL_FROM": "Accounts <accounts@example.com>",
            "GATEHOUSE_REQUIRE_VERIFIED_EMAIL": "true",
            "GATEHOUSE_AUDIT_RETENTION_DAYS": "30",
        }
    )

    assert settings.public_url == "https://id.example.com"
    assert settings.smtp_url == "smtp+starttls://mailer:s3cret@mail.example.com:2525"
    assert settings.mail_from == "Accounts <accounts@example.com>"
    assert settings.require_verified_email is True
    assert settings.audit_retention_days == 30
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GATEHOUSE_SMTP_URL", "ftp://user:hunter2secret@mail.example.com"),
        ("GATEHOUSE_SMTP_URL", "smtp://user:hunter2secret@"),
        ("GATEHOUSE_SMTP_URL", "smtp://user:hunter2secret@mail.example.com:notaport"),
        ("GATEHOUSE_SMTP_URL", "smtp://:hunter2secret@mail.example.com"),
        ("GATEHOUSE_PUBLIC_URL", "javascript:alert(1)"),
        ("GATEHOUSE_REQUIRE_VERIFIED_EMAIL", "maybe"),
        ("GATEHOUSE_AUDIT_RETENTION_DAYS", "0"),
    ],
)
def test_bad_mail_and_audit_settings_are_refused_without_echoing_secrets(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        _load({name: value})

    assert name in str(raised.value)
    assert "hunter2secret" not in str(raised.value)


def test_an_smtp_url_with_a_password_but_no_user_stops_the_start_with_the_transports_reason() -> None:
    """The check is the SMTP transport's own parser: what the relay would refuse on every poll
    is refused at start, for the same reason."""
    with pytest.raises(SettingsError) as raised:
        _load({"GATEHOUSE_SMTP_URL": "smtp://:s3cret@mail.example.com"})

    assert str(raised.value) == "GATEHOUSE_SMTP_URL: the SMTP URL has a password but no user"


def test_without_the_variable_the_secret_comes_from_var_jwt_secret() -> None:
    Path("var").mkdir()
    Path("var/jwt_secret").write_text("a-development-secret-from-the-file-0123456789\n")

    assert _load({}).jwt_secret == "a-development-secret-from-the-file-0123456789"
    assert _load({"GATEHOUSE_JWT_SECRET": "from-the-environment"}).jwt_secret == "from-the-environment"


def test_the_dotenv_file_is_read_and_the_environment_wins_over_it() -> None:
    dotenv = "\n".join(
        [
            "# comments and blank lines are skipped",
            "",
            "GATEHOUSE_ACCESS_TOKEN_TTL=60",
            "export GATEHOUSE_LOG_LEVEL='debug'",
            'GATEHOUSE_DATABASE_URL="sqlite+aiosqlite:///from-dotenv.db"',
        ]
    )

    settings = _load({"GATEHOUSE_ACCESS_TOKEN_TTL": "120"}, dotenv)

    assert settings.access_token_ttl == 120
    assert settings.log_level == "DEBUG"
    assert settings.database_url == "sqlite+aiosqlite:///from-dotenv.db"


def test_every_variable_is_read_from_the_environment() -> None:
    settings = _load(
        {
            "GATEHOUSE_DATABASE_URL": "postgresql+asyncpg://gh@db/gatehouse",
            "GATEHOUSE_REFRESH_TOKEN_TTL": "3600",
            "GATEHOUSE_RATE_LIMIT_PER_MINUTE": "0",
            "GATEHOUSE_LOGIN_MAX_FAILURES": "3",
            "GATEHOUSE_REDIS_URL": "redis://127.0.0.1:6379/0",
            "GATEHOUSE_SLOW_QUERY_MS": "50",
            "GATEHOUSE_PASSWORD_POLICY": "nist",
            "GATEHOUSE_DB_POOL_SIZE": "4",
            "GATEHOUSE_SHUTDOWN_TIMEOUT": "0",
        }
    )

    assert settings.database_url == "postgresql+asyncpg://gh@db/gatehouse"
    assert (settings.refresh_token_ttl, settings.rate_limit_per_minute, settings.login_max_failures) == (
        3600,
        0,
        3,
    )
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.slow_query_ms, settings.db_pool_size, settings.shutdown_timeout) == (50, 4, 0)
    assert settings.password_policy == "nist"


def test_an_empty_value_counts_as_unset() -> None:
    settings = _load({"GATEHOUSE_ACCESS_TOKEN_TTL": "  ", "GATEHOUSE_REDIS_URL": ""})

    assert (settings.access_token_ttl, settings.redis_url) == (1800, None)


@pytest.mark.parametrize("name", INTEGER_VARIABLES)
@pytest.mark.parametrize("value", ["abc", "1.5", "-1"])
def test_a_bad_or_negative_integer_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"GATEHOUSE_{name}"):
        _load({f"GATEHOUSE_{name}": value})


@pytest.mark.parametrize("name", ["ACCESS_TOKEN_TTL", "REFRESH_TOKEN_TTL", "DB_POOL_SIZE"])
def test_a_zero_is_refused_where_it_makes_no_sense(name: str) -> None:
    with pytest.raises(SettingsError, match=f"GATEHOUSE_{name}"):
        _load({f"GATEHOUSE_{name}": "0"})


def test_a_bad_integer_in_the_dotenv_file_is_refused_too() -> None:
    with pytest.raises(SettingsError, match="GATEHOUSE_LOGIN_MAX_FAILURES"):
        _load({}, "GATEHOUSE_LOGIN_MAX_FAILURES=many\n")


def test_an_unknown_password_policy_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="GATEHOUSE_PASSWORD_POLICY"):
        _load({"GATEHOUSE_PASSWORD_POLICY": "lenient"})


def test_comma_separated_lists_are_split_and_trimmed() -> None:
    settings = _load(
        {
            "GATEHOUSE_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16 ,,",
            "GATEHOUSE_CORS_ORIGINS": "https://a.example,https://b.example",
            "GATEHOUSE_JWT_PREVIOUS_SECRETS": " old-secret-one , old-secret-two",
        }
    )

    assert settings.trusted_proxies == ("10.0.0.1", "10.1.0.0/16")
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.jwt_previous_secrets == ("old-secret-one", "old-secret-two")


def test_require_jwt_secret_refuses_a_missing_secret() -> None:
    with pytest.raises(SettingsError, match="GATEHOUSE_JWT_SECRET"):
        _load({}).require_jwt_secret()


@pytest.mark.parametrize("secret", ["s" * 31, "é" * 15 + "s"], ids=["31-ascii", "31-bytes-utf8"])
def test_require_jwt_secret_refuses_a_secret_under_32_bytes(secret: str) -> None:
    with pytest.raises(SettingsError, match="32 bytes"):
        _load({"GATEHOUSE_JWT_SECRET": secret}).require_jwt_secret()


def test_require_jwt_secret_refuses_a_previous_secret_under_32_bytes() -> None:
    settings = _load(
        {"GATEHOUSE_JWT_SECRET": "c" * 32, "GATEHOUSE_JWT_PREVIOUS_SECRETS": f"{'p' * 32},{'q' * 31}"}
    )

    with pytest.raises(SettingsError, match="GATEHOUSE_JWT_PREVIOUS_SECRETS"):
        settings.require_jwt_secret()


def test_require_jwt_secret_gives_back_a_strong_secret() -> None:
    assert _load({"GATEHOUSE_JWT_SECRET": "é" * 16}).require_jwt_secret() == "é" * 16


def test_settings_never_show_secrets_in_their_repr() -> None:
    settings = _load({"GATEHOUSE_JWT_SECRET": "s" * 40, "GATEHOUSE_JWT_PREVIOUS_SECRETS": "p" * 40})

    assert "s" * 40 not in repr(settings)
    assert "p" * 40 not in repr(settings)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgres://gh:hunter2secret@db/gatehouse", ["unknown", "'postgres'"]),
        ("sqlite:///var/gatehouse.db", ["synchronous", "'sqlite'"]),
        ("postgresql://gh:hunter2secret@db/gatehouse", ["synchronous", "'postgresql'"]),
        ("mysql+aiomysql://gh:hunter2secret@db/gatehouse", ["not installed", "'mysql+aiomysql'"]),
        ("nonsense", ["not a database URL"]),
        ("postgresql+asyncpg://gh:hunter2secret@db:port/gatehouse", ["not a database URL"]),
    ],
)
def test_a_database_url_gatehouse_cannot_use_is_refused_naming_the_variable(
    url: str, words: list[str]
) -> None:
    with pytest.raises(SettingsError) as raised:
        _load({"GATEHOUSE_DATABASE_URL": url})

    message = str(raised.value)
    assert message.startswith("GATEHOUSE_DATABASE_URL")
    assert all(word in message for word in words), message
    assert "hunter2secret" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///data/gh.db", "postgresql+asyncpg://gh:pw@db:5433/gatehouse"]
)
def test_an_async_database_url_is_taken_as_it_is(url: str) -> None:
    assert _load({"GATEHOUSE_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GATEHOUSE_LOG_LEVEL", "verbose"),
        ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.1, proxy.example.com"),
    ],
)
def test_a_bad_log_level_or_proxy_network_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        _load({name: value})


def test_a_log_level_is_taken_in_any_case() -> None:
    assert _load({"GATEHOUSE_LOG_LEVEL": "warning"}).log_level == "WARNING"


def test_a_variable_gatehouse_does_not_know_is_a_warning_naming_the_closest_known_one() -> None:
    settings = _load(
        {"GATEHOUSE_RATE_LIMT_PER_MINUTE": "5", "GATEHOUSE_RATE_LIMIT_PER_MINUTE": "7", "GATEHOUSE_ZZZ": "1"},
        "GATEHOUSE_DATABSE_URL=sqlite+aiosqlite:///x.db\n",
    )

    assert settings.rate_limit_per_minute == 7
    assert settings.warnings == (
        "GATEHOUSE_DATABSE_URL is not a Gatehouse setting and is ignored "
        "(did you mean GATEHOUSE_DATABASE_URL?)",
        "GATEHOUSE_RATE_LIMT_PER_MINUTE is not a Gatehouse setting and is ignored "
        "(did you mean GATEHOUSE_RATE_LIMIT_PER_MINUTE?)",
        "GATEHOUSE_ZZZ is not a Gatehouse setting and is ignored",
    )


def test_known_and_developer_variables_earn_no_warning() -> None:
    settings = _load(
        {
            "GATEHOUSE_MAIL_POLL_SECONDS": "0",
            "GATEHOUSE_HASH_QUEUE": "4",
            "GATEHOUSE_HASH_NICENESS": "0",
            "GATEHOUSE_TEST_POSTGRES_URL": "postgresql+asyncpg://x@y/z",
            "GATEHOUSE_TEST_REDIS_URL": "redis://127.0.0.1",
        }
    )

    assert settings.warnings == ()


def test_the_public_url_defaults_to_where_serve_listens_and_an_explicit_one_wins() -> None:
    listening = {"GATEHOUSE_SERVE_URL": "http://127.0.0.1:9123"}

    assert _load(listening).public_url == "http://127.0.0.1:9123"
    assert (
        _load({**listening, "GATEHOUSE_PUBLIC_URL": "https://id.example.com"}).public_url
        == "https://id.example.com"
    )
    assert _load(listening, "GATEHOUSE_PUBLIC_URL=https://dotenv.example.com\n").public_url == (
        "https://dotenv.example.com"
    )


@pytest.mark.parametrize(
    ("host", "url"), [("127.0.0.1", "http://127.0.0.1:8123"), ("::1", "http://[::1]:8123")]
)
def test_serve_url_is_the_listening_address_as_a_url(host: str, url: str) -> None:
    assert serve_url(host, 8123) == url


# Every integer setting with the largest value it takes: beyond it a datetime, a float or a timer
# would overflow (a refresh TTL of 10**20 seconds made every log-in a 500).
INTEGER_MAXIMA = {
    "ACCESS_TOKEN_TTL": TEN_YEARS_S,
    "REFRESH_TOKEN_TTL": TEN_YEARS_S,
    "RATE_LIMIT_PER_MINUTE": 1_000_000,
    "LOGIN_MAX_FAILURES": 10_000,
    "SLOW_QUERY_MS": 3_600_000,
    "DB_POOL_SIZE": 1000,
    "SHUTDOWN_TIMEOUT": 3600,
    "HASH_WORKERS": 256,
    "HASH_QUEUE": 100_000,
    "HASH_NICENESS": 19,
    "AUDIT_RETENTION_DAYS": 36_500,
    "MAIL_POLL_SECONDS": 86_400,
    "HOUSEKEEPING_SECONDS": 86_400,
}


@pytest.mark.parametrize("name", sorted(INTEGER_MAXIMA))
def test_every_integer_setting_takes_its_maximum_and_refuses_more_saying_the_bound(name: str) -> None:
    maximum = INTEGER_MAXIMA[name]
    assert getattr(_load({f"GATEHOUSE_{name}": str(maximum)}), name.lower()) == maximum

    for value in (str(maximum + 1), "99999999999999999999", "9" * 5000):
        with pytest.raises(SettingsError) as raised:
            _load({f"GATEHOUSE_{name}": value})
        message = str(raised.value)
        assert message.startswith(f"GATEHOUSE_{name} ")
        assert f"to {maximum}" in message
        assert "99999" not in message  # the bound, never the value


def test_the_longest_ttls_still_make_a_date() -> None:
    settings = _load({"GATEHOUSE_REFRESH_TOKEN_TTL": str(TEN_YEARS_S)})

    assert datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl) > datetime.now(UTC)
    with pytest.raises(SettingsError, match=r"10 years"):
        _load({"GATEHOUSE_REFRESH_TOKEN_TTL": "99999999999999999999"})


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://x", ["redis://, rediss:// or unix://"]),
        ("redis://:hunter2secret@127.0.0.1:99999/0", ["port", "1 to 65535"]),
        ("redis://:hunter2secret@127.0.0.1:0/0", ["port", "1 to 65535"]),
        ("redis://:hunter2secret@127.0.0.1:port/0", ["port"]),
        ("redis://:hunter2secret@127.0.0.1/0?foo=1", ["query parameter", "foo"]),
        ("redis://:hunter2secret@127.0.0.1/0?socket_timeout=soon", ["socket_timeout"]),
        ("redis://:hunter2secret@127.0.0.1/first", ["database number"]),
        ("unix://", ["socket path"]),
    ],
)
def test_a_redis_url_redis_would_refuse_is_one_line_naming_the_variable(url: str, words: list[str]) -> None:
    with pytest.raises(SettingsError) as raised:
        _load({"GATEHOUSE_REDIS_URL": url})

    message = str(raised.value)
    assert message.startswith("GATEHOUSE_REDIS_URL ")
    assert all(word in message for word in words), message
    assert "hunter2secret" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "url",
    [
        "redis://:pw@127.0.0.1:6379/0",
        "redis://127.0.0.1",
        "rediss://cache.example.com:6380/2?ssl_cert_reqs=none&socket_timeout=2",
        "unix:///run/redis/redis.sock?db=3",
    ],
)
def test_a_redis_url_redis_takes_is_taken_as_it_is(url: str) -> None:
    assert _load({"GATEHOUSE_REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file::memory:?uri=true",
        "sqlite+aiosqlite:///file:gh?mode=memory&cache=shared&uri=true",
    ],
)
def test_an_in_memory_sqlite_database_is_refused_in_one_line(url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        _load({"GATEHOUSE_DATABASE_URL": url})

    assert str(raised.value) == (
        "GATEHOUSE_DATABASE_URL: an in-memory SQLite database can't be shared by connections; "
        "name a file (e.g. sqlite+aiosqlite:///var/gatehouse.db)"
    )


@pytest.mark.parametrize(
    "query",
    [
        "sslmode=require",
        "sslmode=verify-full&target_session_attrs=read-write",
        "host=db1:5432&host=db2:5432&passfile=/etc/gh/pgpass",
    ],
)
def test_libpq_query_parameters_asyncpg_takes_are_taken_as_they_are(query: str) -> None:
    url = f"postgresql+asyncpg://gh:pw@db/gatehouse?{query}"

    assert _load({"GATEHOUSE_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("sslmode=require&application_name=gh&foo=hunter2secret", ["application_name, foo", "sslmode"]),
        ("ssl=require", ["ssl", "use sslmode"]),
        ("sslmode=required", ["sslmode must be one of", "verify-full"]),
        ("target_session_attrs=master", ["target_session_attrs must be one of", "primary"]),
        ("sslmode=disable&sslmode=require", ["sslmode more than once"]),
    ],
)
def test_a_query_parameter_asyncpg_would_refuse_is_one_line_naming_it(query: str, words: list[str]) -> None:
    with pytest.raises(SettingsError) as raised:
        _load({"GATEHOUSE_DATABASE_URL": f"postgresql+asyncpg://gh:hunter2secret@db/gatehouse?{query}"})

    message = str(raised.value)
    assert message.startswith("GATEHOUSE_DATABASE_URL")
    assert all(word in message for word in words), message
    assert "hunter2secret" not in message
    assert "\n" not in message


def test_libpq_sslmode_reaches_asyncpg_connect_as_its_ssl_keyword() -> None:
    url = make_url("postgresql+asyncpg://gh:pw@db/gatehouse?sslmode=verify-full&target_session_attrs=any")

    engine_url, connect_args = asyncpg_connect_args(url)

    assert connect_args == {"ssl": "verify-full"}
    assert dict(engine_url.query) == {"target_session_attrs": "any"}
    assert asyncpg_connect_args(make_url("postgresql+asyncpg://gh@db/gatehouse")) == (
        make_url("postgresql+asyncpg://gh@db/gatehouse"),
        {},
    )
