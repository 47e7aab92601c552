"""§10 mail: the outbox depth in `/metrics`, `.eml` delivery, and the relay against a real SMTP server."""

import asyncio
import logging
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from gatehouse.adapters.sqlalchemy.tables import mail_outbox
from gatehouse.entrypoints.mail_relay import MailRelay
from tests.databases import ENGINES
from tests.e2e.account_support import (
    RESET,
    VERIFY,
    custom_api,
    eml_files,
    last_token,
    link_in,
    outbox,
    sign_up,
    text_of,
    token_in,
)
from tests.e2e.conftest import Api
from tests.mail_grep import token_by_grep
from tests.mail_server import SmtpSink, closed_port

DEPTH = "gatehouse_mail_outbox_depth"
PUBLIC_URL = "https://accounts.example.test/gate"
SENDER = "Gatehouse <no-reply@localhost>"


async def outbox_depth(api: Api) -> float:
    response = await api.client.get("/metrics")
    assert response.status_code == 200, response.text
    [value] = [
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == DEPTH
    ]
    return value


async def make_due(api: Api) -> None:
    """Bring every waiting mail's next attempt to now, as the passing of its retry delay would."""
    stmt = (
        update(mail_outbox)
        .where(mail_outbox.c.status == "pending")
        .values(next_attempt_at=mail_outbox.c.created_at)
    )
    async with api.container.database().write_engine.begin() as conn:
        await conn.execute(stmt)


async def stop_within(relay: MailRelay, seconds: float = 5.0) -> bool:
    """Whether `relay.stop()` returned within `seconds`. If it did not, its wait is cancelled (which
    cancels the relay's task once more) until it ends, so no relay outlives the test."""
    stopping = asyncio.ensure_future(relay.stop())
    done, _ = await asyncio.wait({stopping}, timeout=seconds)
    while not stopping.done():
        stopping.cancel()
        await asyncio.wait({stopping}, timeout=0.5)
    return bool(done)


async def drained(api: Api, deadline_s: float = 10.0) -> bool:
    """Whether the outbox empties before the deadline (polled, not slept on)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while await api.container.mail_queue().depth() > 0:
        if loop.time() > end:
            return False
        await asyncio.sleep(0.02)
    return True


# --- /metrics ------------------------------------------------------------------------------------


async def test_the_outbox_depth_counts_the_mails_waiting_and_falls_after_delivery(api: Api) -> None:
    assert await outbox_depth(api) == 0
    await sign_up(api, "depth_one")
    await sign_up(api, "depth_two")
    assert await outbox_depth(api) == 2

    assert (await api.client.post(RESET, json={"email": "unknown.depth@example.com"})).status_code == 202
    assert await outbox_depth(api) == 2  # nothing is sent for an unknown address
    assert (await api.client.post(RESET, json={"email": "depth_one@example.com"})).status_code == 202
    assert await outbox_depth(api) == 3

    report = await api.container.deliver_mail().execute()

    assert report.sent == 3
    assert await outbox_depth(api) == 0


# --- The file transport --------------------------------------------------------------------------


async def test_delivery_writes_one_plain_text_eml_per_mail_whose_link_verifies(
    api: Api, tmp_path: Path
) -> None:
    user = await sign_up(api, "eml_reader")
    settings = api.container.settings()
    assert settings.outbox_dir == str(tmp_path / "outbox")

    report = await api.container.deliver_mail().execute()

    assert (report.sent, report.failed) == (1, 0)
    [message] = eml_files(settings)
    assert message["To"] == user["email"]
    assert message["From"] == SENDER
    assert message.get_content_type() == "text/plain"
    token = token_in(text_of(message), "verify-email")
    assert link_in(text_of(message), "verify-email").startswith("http://127.0.0.1:8000/account/verify-email?")
    assert all(token not in mail.body for mail in await outbox(api))  # no longer stored once sent
    assert (await api.client.post(VERIFY, json={"token": token})).status_code == 204
    assert (await api.container.deliver_mail().execute()).sent == 0
    assert len(eml_files(settings)) == 1


async def test_the_readmes_grep_finds_the_real_token_in_the_eml_file(api: Api, tmp_path: Path) -> None:
    """README step 10 fishes the token out with `grep -o … | cut -d= -f2`: that only works when the
    body is not quoted-printable (`=3D`, soft line breaks) and the link is whole on one line."""
    user = await sign_up(api, "grep_reader")
    token = await last_token(api, user["email"])

    assert (await api.container.deliver_mail().execute()).sent == 1

    [message] = eml_files(api.container.settings())
    assert message["Content-Transfer-Encoding"] == "7bit"
    assert token_by_grep(tmp_path / "outbox") == token


# --- The relay and a real SMTP server ------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
async def test_the_relay_hands_a_sign_ups_mail_to_the_smtp_server(engine: str, tmp_path: Path) -> None:
    with SmtpSink() as sink:
        async with custom_api(engine, tmp_path, smtp_url=sink.url(), public_url=PUBLIC_URL) as api:
            user = await sign_up(api, "smtp_reader")

            assert await MailRelay(api.container.deliver_mail).run_once() is True

            [mail] = await sink.wait_for_async(1)
            assert mail.rcpt_tos == (user["email"],)
            assert mail.message.get_content_type() == "text/plain"
            text = text_of(mail.message)
            assert link_in(text, "verify-email").startswith(f"{PUBLIC_URL}/account/verify-email?token=")
            assert (
                await api.client.post(VERIFY, json={"token": token_in(text, "verify-email")})
            ).status_code == 204
            assert await api.container.mail_queue().depth() == 0


@pytest.mark.parametrize("engine", ENGINES)
async def test_the_running_relay_delivers_within_ten_seconds_of_the_commit(
    engine: str, tmp_path: Path
) -> None:
    with SmtpSink() as sink:
        async with custom_api(engine, tmp_path, smtp_url=sink.url()) as api:
            relay = MailRelay(api.container.deliver_mail, interval_s=0.05)
            relay.start()
            try:
                user = await sign_up(api, "prompt_reader")
                [mail] = await sink.wait_for_async(1, timeout_s=10)
                assert await drained(api)
            finally:
                assert await stop_within(relay), "MailRelay.stop() did not return within 5 s"

            assert mail.rcpt_tos == (user["email"],)


@pytest.mark.parametrize("engine", ENGINES)
async def test_the_relay_stops_promptly_even_while_it_talks_to_the_smtp_server(
    engine: str, tmp_path: Path
) -> None:
    """Shutdown (§11) stops the relay; a stop that lands mid-conversation must not wait forever."""
    with SmtpSink() as sink:
        async with custom_api(engine, tmp_path, smtp_url=sink.url()) as api:
            for n in range(1, 11):
                relay = MailRelay(api.container.deliver_mail, interval_s=0.05)
                relay.start()
                await sign_up(api, f"hurried_{n}")
                await sink.wait_for_async(n, timeout_s=10)

                assert await stop_within(relay), f"MailRelay.stop() hung (stop number {n})"


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_refused_mail_is_retried_until_delivered_and_no_log_line_holds_its_token(
    engine: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="gatehouse")
    with SmtpSink(refuse_first=2) as sink:
        overrides = {"smtp_url": sink.url(), "public_url": PUBLIC_URL, "slow_query_ms": 0.0}
        async with custom_api(engine, tmp_path, **overrides) as api:
            user = await sign_up(api, "patient_reader")
            token = await last_token(api, user["email"])
            relay = MailRelay(api.container.deliver_mail)

            for attempt in range(1, 4):
                await make_due(api)
                sent = await relay.run_once()
                assert sent is (attempt == 3), (attempt, sink.refused)
                assert await api.container.mail_queue().depth() == (0 if sent else 1)

            [mail] = await sink.wait_for_async(1)
            assert sink.refused == 2
            assert token_in(text_of(mail.message), "verify-email") == token
            page = await api.client.get("/account/verify-email", params={"token": token})
            assert page.status_code == 200
            assert (await api.client.post(VERIFY, json={"token": token})).status_code == 204

    ours = [r for r in caplog.records if r.name.startswith("gatehouse")]
    assert any(r.name == "gatehouse.mail" for r in ours)
    for record in ours:
        assert token not in record.getMessage()
        assert token not in repr(vars(record)), record.name


async def test_an_unreachable_smtp_server_is_logged_with_the_reason_and_nothing_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`"sent":0,"failed":1` alone leaves the operator guessing: the log line says why."""
    caplog.set_level(logging.INFO, logger="gatehouse.mail")
    port = closed_port()
    smtp_url = f"smtp://relay:hunter2-s3cret@127.0.0.1:{port}"
    async with custom_api("sqlite", tmp_path, smtp_url=smtp_url) as api:
        user = await sign_up(api, "stranded_reader")
        token = await last_token(api, user["email"])

        assert await MailRelay(api.container.deliver_mail).run_once() is False

    [record] = [r for r in caplog.records if getattr(r, "event", None) == "mail_delivery"]
    assert record.levelno == logging.WARNING
    assert (vars(record)["sent"], vars(record)["failed"]) == (0, 1)
    assert vars(record)["errors"] == [f"SMTP server 127.0.0.1:{port}: connection refused (SMTPConnectError)"]
    for secret in (token, "hunter2-s3cret", "stranded_reader"):
        assert secret not in repr(vars(record))
