"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 in a thread of its own, recording what it receives.

It can refuse the first N attempts, require AUTH, and speak STARTTLS or implicit TLS with a
self-signed certificate made at test time (`make_self_signed_cert`, through the `openssl` tool).

    with SmtpSink(security="starttls", cert=cert, credentials=("relay", "p@ss")) as sink:
        transport = SmtpMailTransport(sink.url(user="relay", password="p@ss"), SENDER,
                                      tls_context=sink.client_tls_context())
        await transport.send(mail)
        [received] = sink.wait_for(1)
"""

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Security = Literal["plain", "starttls", "tls"]
Stage = Literal["RCPT", "DATA"]
HOST = "127.0.0.1"
REFUSAL = "451 4.3.0 try again later"
_SCHEMES: dict[Security, str] = {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes = b""  # the message as it came over the wire


@dataclass(frozen=True, slots=True)
class SelfSignedCert:
    """A certificate for `127.0.0.1` and `localhost`, and its key."""

    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verification stays on (hostname included); this certificate is simply trusted."""
        return ssl.create_default_context(cafile=str(self.cert_file))


def make_self_signed_cert(directory: Path) -> SelfSignedCert:
    """A fresh P-256 certificate valid for two days; skips the test where `openssl` is missing."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command-line tool is needed to make a test certificate")
    cert = SelfSignedCert(directory / "sink-cert.pem", directory / "sink-key.pem")
    # fmt: off
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(cert.key_file), "-out", str(cert.cert_file), "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=30,
    )
    # fmt: on
    return cert


def closed_port() -> int:
    """A loopback port nobody listens on (just released by the OS): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


class _Recorder:
    """The aiosmtpd handler: refuses while told to, records the rest (under the sink's lock)."""

    def __init__(self, refuse_first: int, refuse_at: Stage, auth_required: bool) -> None:
        self.changed = threading.Condition()
        self.received: list[ReceivedMail] = []
        self.refusals_left = refuse_first
        self.refused = 0
        self._refuse_at = refuse_at
        self._auth_required = auth_required

    def _refuse(self, stage: Stage) -> bool:
        with self.changed:
            if stage != self._refuse_at or self.refusals_left == 0:
                return False
            self.refusals_left -= 1
            self.refused += 1
            self.changed.notify_all()
            return True

    async def handle_MAIL(  # noqa: N802 - the hook names are aiosmtpd's
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._auth_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._refuse("RCPT"):
            return REFUSAL
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self._refuse("DATA"):
            return REFUSAL
        content = envelope.original_content or b""
        message = BytesParser(EmailMessage, policy=default).parsebytes(content)
        mail = ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), message, content)
        with self.changed:
            self.received.append(mail)
            self.changed.notify_all()
        return "250 2.0.0 OK: queued"


class _Controller(Controller):
    """aiosmtpd's threaded controller on an OS-chosen free port (it only knows a fixed one)."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self._bind(super()._create_server())

    async def _bind(self, creating: Awaitable[asyncio.AbstractServer]) -> asyncio.AbstractServer:
        server = await creating
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]
        return server


class SmtpSink:
    """A running SMTP server on `HOST:port` while the `with` block lasts (or between `start`/`stop`).

    `credentials`: AUTH with this user and password is required before MAIL (on any security).
    `refuse_first`/`refuse_at`: the first N attempts get `451 4.3.0` at RCPT or at DATA."""

    def __init__(
        self,
        *,
        security: Security = "plain",
        cert: SelfSignedCert | None = None,
        credentials: tuple[str, str] | None = None,
        refuse_first: int = 0,
        refuse_at: Stage = "DATA",
    ) -> None:
        if security != "plain" and cert is None:
            raise ValueError(f"a {security} sink needs a certificate")
        self.security = security
        self.cert = cert
        self._credentials = credentials
        self._recorder = _Recorder(refuse_first, refuse_at, auth_required=credentials is not None)
        implicit_tls = cert.server_context() if cert is not None and security == "tls" else None
        self._controller = _Controller(
            self._recorder,
            hostname=HOST,
            port=0,
            ssl_context=implicit_tls,
            server_hostname="sink.test",
            ready_timeout=10.0,
            **self._smtp_options(),
        )

    def _smtp_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self._credentials is not None:
            # AUTH is offered without TLS too (`smtp://user:pass@…` is legal, if unwise) and its
            # requirement is enforced by `_Recorder.handle_MAIL`: aiosmtpd's own `auth_required`
            # with `auth_require_tls=False` emits a UserWarning, an error under `filterwarnings`.
            options |= {"authenticator": self._authenticate, "auth_require_tls": False}
        if self.cert is not None and self.security == "starttls":
            options |= {"tls_context": self.cert.server_context(), "require_starttls": True}
        return options

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        assert self._credentials is not None
        user, password = self._credentials
        expected = LoginPassword(user.encode(), password.encode())
        return AuthResult(success=auth_data == expected, handled=False)

    @property
    def port(self) -> int:
        port: int = self._controller.port
        return port

    def url(self, *, user: str | None = None, password: str | None = None) -> str:
        """This sink's URL for `SmtpMailTransport`; user and password percent-encoded."""
        userinfo = quote(user, safe="") if user is not None else ""
        if password is not None:
            userinfo += ":" + quote(password, safe="")
        at = "@" if userinfo else ""
        return f"{_SCHEMES[self.security]}://{userinfo}{at}{HOST}:{self.port}"

    def client_tls_context(self) -> ssl.SSLContext | None:
        """A verifying client context that trusts this sink's certificate (None for a plain sink)."""
        return self.cert.client_context() if self.cert is not None else None

    @property
    def received(self) -> list[ReceivedMail]:
        with self._recorder.changed:
            return list(self._recorder.received)

    @property
    def refused(self) -> int:
        """Attempts answered with `REFUSAL` so far."""
        with self._recorder.changed:
            return self._recorder.refused

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[ReceivedMail]:
        """The mails received once there are at least `count`; fails the test at the deadline.
        (The sink records a mail before it answers 250, so after `send` returned this is instant.)"""
        recorder = self._recorder
        with recorder.changed:
            if not recorder.changed.wait_for(lambda: len(recorder.received) >= count, timeout_s):
                pytest.fail(
                    f"the SMTP sink got {len(recorder.received)} mails, not {count}, in {timeout_s} s"
                )
            return list(recorder.received)

    async def wait_for_async(self, count: int, timeout_s: float = 5.0) -> list[ReceivedMail]:
        """`wait_for` without blocking the event loop: for a sender running in the test's own loop."""
        return await asyncio.to_thread(self.wait_for, count, timeout_s)

    def start(self) -> Self:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
