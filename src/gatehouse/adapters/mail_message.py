"""The RFC 5322 message both mail transports hand on: one `PendingMail` as an `EmailMessage`."""

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from gatehouse.application.ports.mail import PendingMail


def sender_address(sender: str) -> str:
    """The bare address of `sender` (`Gatehouse <no-reply@example.com>` → `no-reply@example.com`).

    Raises `ValueError` when there is none, so a bad `GATEHOUSE_MAIL_FROM` fails at start-up."""
    address = parseaddr(sender)[1]
    if "@" not in address:
        raise ValueError(f"the mail sender {sender!r} has no address of the form local@domain")
    return address


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already (that is how Gatehouse stores time)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def build_message(mail: PendingMail, sender: str) -> EmailMessage:
    """A `text/plain; charset=utf-8` message from `sender` to the mail's recipient.

    The body goes as it is, `7bit` when it is ASCII and `8bit` when not, never quoted-printable:
    a link stays whole on its line, so `grep` on an `.eml` file finds it as the mail shows it.
    (An SMTP server without 8BITMIME gets a non-ASCII body in base64 instead: aiosmtplib
    re-encodes it, as RFC 6152 asks.) Our bodies' lines are far below SMTP's 998-octet limit.

    The `Message-ID` derives from the outbox id alone, so every retry of the same mail carries
    the same one and a receiver can drop the duplicate of an attempt that succeeded unseen."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.message.recipient
    message["Subject"] = mail.message.subject
    message["Date"] = formatdate(as_utc(mail.created_at).timestamp(), usegmt=True)
    message["Message-ID"] = f"<gatehouse-{mail.id}@{domain}>"
    body = mail.message.body
    message.set_content(body, subtype="plain", charset="utf-8", cte="7bit" if body.isascii() else "8bit")
    return message
