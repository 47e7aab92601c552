"""§12 no MFA secret at rest in clear or in a log line: the TOTP secret is sealed with the data key
(never the signing secret), recovery codes and `mfa_token`s are kept only as digests."""

import base64
import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from gatehouse.adapters.secret_box import AesGcmSecretBox
from gatehouse.adapters.sqlalchemy.tables import mfa_enrolments
from gatehouse.application.errors import SecretUnreadableError
from gatehouse.entrypoints.logs import configure_logging
from tests.conftest import TEST_DATA_KEY, TEST_SECRET
from tests.e2e.conftest import PASSWORD, Api
from tests.e2e.mfa_support import (
    MY_MFA,
    RECOVERY_CODES,
    TOTP,
    TOTP_CONFIRM,
    Authenticator,
    enrol,
    enrolled_account,
    log_in,
    mfa_token,
    second_step,
    start_enrolment,
    table_text,
)

TABLES = (
    "mfa_enrolments",
    "mfa_recovery_codes",
    "mfa_challenges",
    "users",
    "audit_events",
    "mail_outbox",
    "sessions",
    "refresh_tokens",
)


def forms_of(secret: str) -> list[str]:
    """The ways a base32 secret could sit in a column: as shown, lower-cased, raw bytes in hex."""
    raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return [secret, secret.lower(), raw.hex(), raw.decode("latin-1")]


def forms_of_code(code: str) -> list[str]:
    return [code, code.replace("-", ""), code.upper(), code.replace("-", "").upper()]


async def leaks(api: Api, secrets: list[str]) -> list[str]:
    found = []
    for table in TABLES:
        dump = await table_text(api, table)
        found += [f"{table}: {s[:8]}…" for s in secrets if s in dump]
    return found


async def test_no_secret_recovery_code_or_mfa_token_is_stored_in_clear(api: Api) -> None:
    enrolled = await enrolled_account(api)
    renewed = await api.client.post(
        RECOVERY_CODES, json={"code": await enrolled.app.code()}, headers=enrolled.account.auth
    )
    assert renewed.status_code == 200, renewed.text
    new_codes = renewed.json()["recovery_codes"]
    spent_token = await mfa_token(api, enrolled.account.email)
    assert (await second_step(api, spent_token, new_codes[0])).status_code == 200
    waiting_token = await mfa_token(api, enrolled.account.email)
    pending = await api.create_account()  # one whose enrolment is still pending
    pending_secret = (await start_enrolment(api, pending))["secret"]

    secrets = forms_of(enrolled.app.secret) + forms_of(pending_secret) + [spent_token, waiting_token]
    for code in enrolled.recovery_codes + new_codes:
        secrets += forms_of_code(code)

    assert await leaks(api, secrets) == []


async def test_the_secret_is_sealed_with_the_data_key_and_never_the_signing_secret(api: Api) -> None:
    enrolled = await enrolled_account(api)
    stmt = select(mfa_enrolments.c.sealed_secret).where(mfa_enrolments.c.user_id == enrolled.account.id)
    async with api.container.database().read_engine.connect() as conn:
        sealed = bytes((await conn.execute(stmt)).scalar_one())
    context = f"totp:user:{enrolled.account.id}"

    assert AesGcmSecretBox(TEST_DATA_KEY).open(sealed, context=context) == enrolled.app.secret
    with pytest.raises(SecretUnreadableError):
        AesGcmSecretBox(TEST_SECRET).open(sealed, context=context)


async def test_a_fresh_seal_each_time_one_secret_is_stored(api: Api) -> None:
    """Two accounts' rows never share a ciphertext, and the row moved to another account won't open."""
    first, second = await enrolled_account(api), await enrolled_account(api)
    async with api.container.database().read_engine.connect() as conn:
        rows = dict(
            (await conn.execute(select(mfa_enrolments.c.user_id, mfa_enrolments.c.sealed_secret))).all()
        )
    sealed_first = bytes(rows[first.account.id])

    assert sealed_first != bytes(rows[second.account.id])
    with pytest.raises(SecretUnreadableError):
        AesGcmSecretBox(TEST_DATA_KEY).open(sealed_first, context=f"totp:user:{second.account.id}")


@contextmanager
def production_logs(level: str) -> Iterator[io.StringIO]:
    """`configure_logging(level)` as `gatehouse serve` calls it, writing to a buffer; undone after."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names}
    saved_disabled = logging.getLogger("uvicorn.access").disabled
    configure_logging(level)
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, (handlers, propagate) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
        logging.getLogger("uvicorn.access").disabled = saved_disabled


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    with production_logs("DEBUG") as buffer:
        yield buffer


def with_boundaries(code: str) -> re.Pattern[str]:
    """A 6-digit code as a value of its own (not the tail of a timestamp's microseconds)."""
    return re.compile(rf"(?<![0-9.]){code}(?![0-9])")


async def mfa_life(api: Api) -> list[str]:
    """Every MFA route, right and wrong; the secrets and codes that went by."""
    account = await api.create_account()
    shown = await api.client.post(TOTP, json={"password": "Wrong-Horse-1"}, headers=account.auth)
    assert shown.status_code == 403
    app = Authenticator((await start_enrolment(api, account))["secret"])
    wrong = app.wrong_code()
    assert (
        await api.client.post(TOTP_CONFIRM, json={"code": wrong}, headers=account.auth)
    ).status_code == 400
    enrolled = await enrol(api, account)
    codes = [wrong, enrolled.app.spent_code()]
    token = await mfa_token(api, account.email)
    assert (await second_step(api, token, wrong)).status_code == 401
    assert (await second_step(api, token + "x", wrong)).status_code == 401
    assert (await second_step(api, token, enrolled.recovery_codes[0])).status_code == 200
    pair = await log_in(api, enrolled)
    codes.append(enrolled.app.spent_code())
    assert (
        await api.client.post(RECOVERY_CODES, json={"code": wrong}, headers=account.auth)
    ).status_code == 403
    off = await api.client.request(
        "DELETE",
        MY_MFA,
        json={"password": PASSWORD, "code": enrolled.recovery_codes[1]},
        headers=account.auth,
    )
    assert off.status_code == 204, off.text

    secrets = [app.secret, enrolled.app.secret, token, pair["access_token"], pair["refresh_token"]]
    return secrets + [f for c in enrolled.recovery_codes for f in forms_of_code(c)] + codes


async def test_no_secret_code_or_mfa_token_reaches_a_log_line_at_debug(
    api: Api, debug_logs: io.StringIO
) -> None:
    # The SQLite driver's own debug lines quote every statement's parameters (a password hash
    # too): that is the next test's subject; here only what the MFA routes could leak is sought.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    try:
        secrets = await mfa_life(api)
    finally:
        logging.getLogger("aiosqlite").setLevel(logging.NOTSET)

    text = debug_logs.getvalue()
    assert "api_request" in text  # the requests were logged at all
    leaked = [s[:8] + "…" for s in secrets if len(s) > 6 and s in text]
    leaked += [c for c in secrets if len(c) == 6 and with_boundaries(c).search(text)]
    assert leaked == [], leaked


async def test_debug_logs_quote_no_statement_parameters(api: Api, debug_logs: io.StringIO) -> None:
    """GATEHOUSE_LOG_LEVEL=DEBUG is a documented level: even then no password hash or MFA secret
    reaches a log line (§7, §12), whichever database driver is in use."""
    secrets = await mfa_life(api)

    text = debug_logs.getvalue()
    assert "$argon2" not in text, "a DEBUG log line holds a password hash"
    assert [s[:8] for s in secrets if len(s) > 6 and s in text] == []
