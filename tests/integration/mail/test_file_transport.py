"""The file transport on a real filesystem: parseable `.eml` files, written atomically and idempotently."""

import os
import threading
from dataclasses import replace
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest

from gatehouse.adapters import mail_files
from gatehouse.adapters.mail_files import FileMailTransport
from gatehouse.application.errors import MailDeliveryError
from gatehouse.application.ports.mail import MailMessage
from tests.integration.mail.conftest import LINK, SENDER, TOKEN, pending_mail
from tests.mail_grep import token_by_grep

EXPECTED_NAME = "20250131T235958-00000042.eml"


def read_eml(path: Path) -> EmailMessage:
    return BytesParser(EmailMessage, policy=default).parsebytes(path.read_bytes())


async def test_a_mail_becomes_a_parseable_eml_with_the_smtp_headers(outbox_dir: Path) -> None:
    mail = pending_mail(42)

    await FileMailTransport(outbox_dir, SENDER).send(mail)

    assert os.listdir(outbox_dir) == [EXPECTED_NAME]
    message = read_eml(outbox_dir / EXPECTED_NAME)
    assert message["From"] == SENDER
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Réinitialiser ✓"
    assert message["Message-ID"] == "<gatehouse-42@gatehouse.test>"
    assert message["Date"].datetime == mail.created_at
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().removesuffix("\n") == mail.message.body


@pytest.mark.parametrize(
    ("greeting", "encoding"), [("Hello ada_l,", "7bit"), ("Grüße, Ada —", "8bit")], ids=["ascii", "utf-8"]
)
async def test_the_body_is_written_as_it_reads_with_each_link_whole_on_its_line(
    outbox_dir: Path, greeting: str, encoding: str
) -> None:
    """§10: `7bit` (or `8bit` with non-ASCII text), never quoted-printable, whose `=3D` and soft
    line breaks would cut the README's `grep` of the link short."""
    body = f"{greeting}\n\nplease open this link, which is longer than a mail line ought to be:\n\n{LINK}\n"

    await FileMailTransport(outbox_dir, SENDER).send(pending_mail(42, body=body))

    raw = (outbox_dir / EXPECTED_NAME).read_bytes()
    message = read_eml(outbox_dir / EXPECTED_NAME)
    assert message["Content-Transfer-Encoding"] == encoding
    assert LINK.encode() in raw.splitlines()
    assert body.encode() in raw
    assert message.get_content() == body
    assert token_by_grep(outbox_dir) == TOKEN


async def test_the_outbox_directory_and_its_parents_are_created(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "b" / "outbox"

    await FileMailTransport(directory, SENDER).send(pending_mail())

    assert (directory / EXPECTED_NAME).is_file()


async def test_resending_a_mail_replaces_its_file_and_leaves_no_temporary_file(outbox_dir: Path) -> None:
    transport = FileMailTransport(outbox_dir, SENDER)
    first = pending_mail(42, body="first attempt")
    second = replace(first, message=MailMessage("ada@example.com", "Réinitialiser ✓", "second attempt"))

    await transport.send(first)
    await transport.send(second)

    assert os.listdir(outbox_dir) == [EXPECTED_NAME]
    assert read_eml(outbox_dir / EXPECTED_NAME).get_content().removesuffix("\n") == "second attempt"


async def test_a_failed_rewrite_keeps_the_previous_file_whole_and_removes_its_temporary(
    outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = FileMailTransport(outbox_dir, SENDER)
    await transport.send(pending_mail(42, body="the first, complete"))
    before = (outbox_dir / EXPECTED_NAME).read_bytes()

    def rename_fails(source: str, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", rename_fails)
    with pytest.raises(MailDeliveryError, match="No space left on device"):
        await transport.send(pending_mail(42, body="the second"))

    assert os.listdir(outbox_dir) == [EXPECTED_NAME]
    assert (outbox_dir / EXPECTED_NAME).read_bytes() == before


async def test_an_unwritable_directory_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")  # fails even for root, unlike chmod

    with pytest.raises(MailDeliveryError, match=r"00000042\.eml"):
        await FileMailTransport(blocker / "mail", SENDER).send(pending_mail(42))


async def test_the_file_is_written_off_the_event_loop_thread(
    outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers: list[threading.Thread] = []
    write = mail_files.write_atomically

    def recording(directory: Path, name: str, data: bytes) -> Path:
        writers.append(threading.current_thread())
        return write(directory, name, data)

    monkeypatch.setattr(mail_files, "write_atomically", recording)
    await FileMailTransport(outbox_dir, SENDER).send(pending_mail())

    assert writers
    assert threading.current_thread() not in writers


def test_a_sender_without_an_address_is_refused_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sender"):
        FileMailTransport(tmp_path, "Gatehouse")
