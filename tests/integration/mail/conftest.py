"""SMTP sinks and a test certificate for the mail-transport tests (the helpers live in tests.mail_server)."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gatehouse.application.ports.mail import MailMessage, PendingMail
from tests.mail_server import SelfSignedCert, SmtpSink, make_self_signed_cert

SENDER = "Gatehouse <no-reply@gatehouse.test>"
TOKEN = "Zm9vYmFy-_0123456789abcdefghijklmnopqrstuvwxyzAB"
LINK = f"https://gatehouse.test/a/long/public/path/account/verify-email?token={TOKEN}"  # > 78 characters


def pending_mail(
    mail_id: int = 42, *, body: str = "Grüße — follow https://gatehouse.test/r?t=abc"
) -> PendingMail:
    message = MailMessage(recipient="ada@example.com", subject="Réinitialiser ✓", body=body)
    return PendingMail(
        id=mail_id, message=message, created_at=datetime(2025, 1, 31, 23, 59, 58, tzinfo=UTC), attempts=0
    )


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> SelfSignedCert:
    """One self-signed certificate for the whole run (making one takes a subprocess)."""
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def start_sink() -> Iterator[Callable[..., SmtpSink]]:
    """`start_sink(**SmtpSink options)` → a running sink, stopped after the test."""
    with ExitStack() as stack:

        def start(**options: Any) -> SmtpSink:
            return stack.enter_context(SmtpSink(**options))

        yield start


@pytest.fixture
def smtp_sink(start_sink: Callable[..., SmtpSink]) -> SmtpSink:
    """A plain-SMTP sink that accepts everything."""
    return start_sink()


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "var" / "outbox"
