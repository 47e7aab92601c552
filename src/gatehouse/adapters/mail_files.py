"""The file mail transport: every mail becomes an `.eml` file in a folder (development, no SMTP server).

A file appears whole or not at all: it is written to a temporary name in the same folder, synced,
then renamed over the final name, so a reader (a person, a test, a mail viewer) never sees half a
mail. The name derives from the mail alone, so a retried mail replaces its file instead of adding
a second one. Files are created readable by their owner only: they hold one-time links.
"""

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from gatehouse.adapters.mail_message import as_utc, build_message, sender_address
from gatehouse.application.errors import MailDeliveryError
from gatehouse.application.ports.mail import MailTransport, PendingMail


def eml_name(mail: PendingMail) -> str:
    """`20250131T235959-00000042.eml`: the mail's creation time (UTC), then its outbox id."""
    return f"{as_utc(mail.created_at):%Y%m%dT%H%M%S}-{mail.id:08d}.eml"


def write_atomically(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` to `directory / name` through a synced temporary file and a rename."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, directory / name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)
    return directory / name


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; elsewhere a directory can't be opened for this)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileMailTransport(MailTransport):
    """Writes each mail as `directory/<created>-<id>.eml`, in LF line ends like any text file."""

    def __init__(self, directory: Path, sender: str) -> None:
        sender_address(sender)
        self._directory = directory
        self._sender = sender

    @property
    def directory(self) -> Path:
        return self._directory

    async def send(self, mail: PendingMail) -> None:
        """Blocking file I/O runs in a worker thread; any `OSError` is a `MailDeliveryError`."""
        data = build_message(mail, self._sender).as_bytes()
        name = eml_name(mail)
        try:
            await asyncio.to_thread(write_atomically, self._directory, name, data)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise MailDeliveryError(f"could not write {name} into {self._directory}: {reason}") from exc
