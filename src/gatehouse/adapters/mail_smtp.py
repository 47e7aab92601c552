"""The SMTP mail transport (aiosmtplib): plain SMTP, STARTTLS or implicit TLS, one connection per mail.

Each `send` connects, sends one mail and quits. The relay sends in small bursts minutes apart,
so a kept-open connection would mostly sit idle until the server drops it (servers close idle
sessions after a few minutes), and every send would first have to detect a dead socket and redo
TLS and AUTH anyway; a half-broken session could also fail the next mail for a reason that is
not its own. One handshake per mail costs nothing next to the retry interval, and it makes every
attempt independent: it succeeds or fails on its own, with its own error, within its own deadline.
"""

import asyncio
import socket
import ssl
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

import aiosmtplib

from gatehouse.adapters.mail_message import build_message, sender_address
from gatehouse.application.errors import MailDeliveryError
from gatehouse.application.ports.mail import MailTransport, PendingMail

Security = Literal["plain", "starttls", "tls"]
_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
_QUIT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class SmtpEndpoint:
    """Where and how to reach the SMTP server; the password never reaches a repr."""

    security: Security
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SmtpEndpoint:
    """`smtp://`, `smtp+starttls://` or `smtps://[user:password@]host[:port]`, user and password
    percent-decoded. Raises `ValueError` with a message that never repeats the password."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError("the SMTP URL is malformed (check its host and port)") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(
            f"the SMTP URL must start with smtp://, smtp+starttls:// or smtps:// (not {scheme!r})"
        )
    if not parts.hostname:
        raise ValueError(f"the SMTP URL has no host (expected {scheme}://[user:password@]host[:port])")
    if parts.password is not None and not parts.username:
        raise ValueError("the SMTP URL has a password but no user")
    security, default_port = _SCHEMES[scheme]
    return SmtpEndpoint(
        security=security,
        host=parts.hostname,
        port=port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class SmtpMailTransport(MailTransport):
    """Sends each mail over a fresh SMTP session; any failure of the attempt is a `MailDeliveryError`.

    `smtp://` never upgrades on its own (no opportunistic STARTTLS), `smtp+starttls://` requires
    the upgrade, `smtps://` speaks TLS from the first byte. Certificates are verified against the
    system's trust store unless `tls_context` says otherwise (a test's self-signed CA, say)."""

    def __init__(
        self, url: str, sender: str, timeout_s: float = 15.0, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self._endpoint = parse_smtp_url(url)
        self._sender = sender
        self._envelope_from = sender_address(sender)
        self._timeout_s = timeout_s
        self._tls_context = tls_context

    async def send(self, mail: PendingMail) -> None:
        """One attempt, bounded by `timeout_s` from connect to the server's answer to the mail."""
        message = build_message(mail, self._sender)
        client = self._client()
        try:
            async with asyncio.timeout(self._timeout_s):
                await client.connect()
                await client.send_message(
                    message, sender=self._envelope_from, recipients=[mail.message.recipient]
                )
        except (aiosmtplib.SMTPException, OSError) as exc:  # TimeoutError and ssl.SSLError are OSErrors
            in_step = isinstance(exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused)
            await self._hang_up(client, polite=in_step)
            raise MailDeliveryError(self._describe(exc)) from exc
        except BaseException:
            client.close()
            raise
        await self._hang_up(client, polite=True)

    def _client(self) -> aiosmtplib.SMTP:
        endpoint = self._endpoint
        return aiosmtplib.SMTP(
            hostname=endpoint.host,
            port=endpoint.port,
            username=endpoint.username,
            password=endpoint.password,
            use_tls=endpoint.security == "tls",
            start_tls=endpoint.security == "starttls",
            tls_context=self._tls_context,
            timeout=self._timeout_s,
        )

    async def _hang_up(self, client: aiosmtplib.SMTP, *, polite: bool) -> None:
        """QUIT while the session is still in step, then close. The attempt's outcome is already
        decided: a mail the server accepted stays sent even when its QUIT goes wrong."""
        try:
            if polite and client.is_connected:
                await client.quit(timeout=min(self._timeout_s, _QUIT_TIMEOUT_S))
        except (aiosmtplib.SMTPException, OSError):
            pass
        finally:
            client.close()

    def _describe(self, exc: Exception) -> str:
        """One short line: the server, then its code and reply, or what went wrong on the way and
        the exception's type (`connection refused (SMTPConnectError)`) — never the body, never the
        password."""
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
            exc = exc.recipients[0]
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            detail = f"{exc.code} {exc.message}"
        else:
            detail = f"{self._what_failed(exc)} ({type(exc).__name__})"
        detail = " ".join(detail.split())[:200]
        if self._endpoint.password:
            detail = detail.replace(self._endpoint.password, "***")
        host = self._endpoint.host
        where = f"[{host}]" if ":" in host else host
        return f"SMTP server {where}:{self._endpoint.port}: {detail}"

    def _what_failed(self, exc: BaseException) -> str:
        """The cause in plain words where there are some (aiosmtplib wraps a refused connection
        or an unknown host in `SMTPConnectError`), else the exception's own text."""
        causes = [exc, *([exc.__cause__] if exc.__cause__ is not None else [])]
        if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
            return "connection refused"
        if any(isinstance(cause, socket.gaierror) for cause in causes):
            return "host name not found"
        if any(isinstance(cause, TimeoutError | aiosmtplib.SMTPTimeoutError) for cause in causes):
            return f"no answer within {self._timeout_s:g} s"
        return str(exc) or "failed"
