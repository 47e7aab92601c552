"""The SMTP transport against a real SMTP server (aiosmtpd): headers, AUTH, TLS, refusals, faults."""

import asyncio
import socket
from collections.abc import Callable
from urllib.parse import quote

import pytest

from gatehouse.adapters.mail_smtp import SmtpMailTransport, parse_smtp_url
from gatehouse.application.errors import MailDeliveryError
from tests.integration.mail.conftest import LINK, SENDER, pending_mail
from tests.mail_server import HOST, SelfSignedCert, SmtpSink, closed_port

PASSWORD = "s3cr:t/p@ss%"  # every character that must be percent-encoded in a URL's userinfo
PLAIN_PASSWORD = "hunter2-s3cret"


def text_of(sink_mail_body: str) -> str:
    return sink_mail_body.replace("\r\n", "\n").rstrip("\n")


async def test_a_mail_over_plain_smtp_arrives_with_its_headers_and_utf8_text(smtp_sink: SmtpSink) -> None:
    mail = pending_mail(7)
    await SmtpMailTransport(smtp_sink.url(), SENDER).send(mail)

    [received] = smtp_sink.wait_for(1)
    assert received.mail_from == "no-reply@gatehouse.test"
    assert received.rcpt_tos == ("ada@example.com",)
    message = received.message
    assert message["From"] == SENDER
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Réinitialiser ✓"
    assert message["Message-ID"] == "<gatehouse-7@gatehouse.test>"
    assert message["Date"].datetime == mail.created_at
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert text_of(message.get_content()) == mail.message.body


@pytest.mark.parametrize(
    ("greeting", "encoding"), [("Hello ada_l,", "7bit"), ("Grüße, Ada —", "8bit")], ids=["ascii", "utf-8"]
)
async def test_the_body_goes_over_smtp_as_it_reads_with_each_link_whole_on_its_line(
    smtp_sink: SmtpSink, greeting: str, encoding: str
) -> None:
    body = f"{greeting}\n\nplease open this link, which is longer than a mail line ought to be:\n\n{LINK}\n"

    await SmtpMailTransport(smtp_sink.url(), SENDER).send(pending_mail(8, body=body))

    [received] = smtp_sink.wait_for(1)
    assert received.message["Content-Transfer-Encoding"] == encoding
    assert LINK.encode() in received.raw.splitlines()
    assert body.replace("\n", "\r\n").encode() in received.raw
    assert text_of(received.message.get_content()) == body.rstrip("\n")


async def test_a_plain_smtp_url_never_upgrades_to_starttls_on_its_own(
    start_sink: Callable[..., SmtpSink], tls_cert: SelfSignedCert
) -> None:
    sink = start_sink(security="starttls", cert=tls_cert)  # offers STARTTLS and insists on it
    plain_url = sink.url().replace("smtp+starttls://", "smtp://")

    with pytest.raises(MailDeliveryError, match="530"):
        await SmtpMailTransport(plain_url, SENDER).send(pending_mail())
    assert sink.received == []


async def test_credentials_in_the_url_are_percent_decoded_for_auth(
    start_sink: Callable[..., SmtpSink],
) -> None:
    sink = start_sink(credentials=("relay user", PASSWORD))

    await SmtpMailTransport(sink.url(user="relay user", password=PASSWORD), SENDER).send(pending_mail())

    assert len(sink.wait_for(1)) == 1


async def test_a_rejected_password_is_a_delivery_error_that_does_not_repeat_it(
    start_sink: Callable[..., SmtpSink],
) -> None:
    sink = start_sink(credentials=("relay", "the-right-one"))

    with pytest.raises(MailDeliveryError, match="535") as raised:
        await SmtpMailTransport(sink.url(user="relay", password=PASSWORD), SENDER).send(pending_mail())
    assert PASSWORD not in str(raised.value)
    assert sink.received == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_starttls_and_implicit_tls_deliver_with_a_verified_certificate(
    start_sink: Callable[..., SmtpSink], tls_cert: SelfSignedCert, security: str
) -> None:
    sink = start_sink(security=security, cert=tls_cert, credentials=("relay", PASSWORD))
    url = sink.url(user="relay", password=PASSWORD)
    assert url.startswith("smtp+starttls://" if security == "starttls" else "smtps://")

    sending = asyncio.create_task(
        SmtpMailTransport(url, SENDER, tls_context=sink.client_tls_context()).send(pending_mail(9))
    )

    [received] = await sink.wait_for_async(1)  # the loop stays free for the send in flight
    await sending
    # A TLS transport finishes closing in later loop turns: let it, so that no half-closed socket
    # is left to the garbage collector (an "unclosed transport" warning fails the test at random).
    await asyncio.sleep(0.2)
    assert received.message["Message-ID"] == "<gatehouse-9@gatehouse.test>"


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_a_certificate_the_system_does_not_trust_is_a_delivery_error(
    start_sink: Callable[..., SmtpSink], tls_cert: SelfSignedCert, security: str
) -> None:
    sink = start_sink(security=security, cert=tls_cert)

    with pytest.raises(MailDeliveryError, match="certificate"):
        await SmtpMailTransport(sink.url(), SENDER).send(pending_mail())
    assert sink.received == []


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
async def test_a_server_refusing_twice_fails_two_attempts_then_accepts_the_third(
    start_sink: Callable[..., SmtpSink], stage: str
) -> None:
    sink = start_sink(refuse_first=2, refuse_at=stage)
    transport = SmtpMailTransport(sink.url(), SENDER)
    mail = pending_mail(11)

    for attempt in (1, 2):
        with pytest.raises(MailDeliveryError) as raised:
            await transport.send(mail)
        assert str(raised.value) == f"SMTP server {HOST}:{sink.port}: 451 4.3.0 try again later"
        assert sink.refused == attempt
    await transport.send(mail)

    [received] = sink.wait_for(1)
    assert received.message["Message-ID"] == "<gatehouse-11@gatehouse.test>"


async def test_an_unreachable_server_fails_fast_without_revealing_the_password() -> None:
    port = closed_port()
    transport = SmtpMailTransport(f"smtp://relay:{quote(PASSWORD, safe='')}@{HOST}:{port}", SENDER)

    async with asyncio.timeout(5):
        with pytest.raises(MailDeliveryError) as raised:
            await transport.send(pending_mail())
    assert str(raised.value) == f"SMTP server {HOST}:{port}: connection refused (SMTPConnectError)"
    assert PASSWORD not in str(raised.value)
    assert "Grüße" not in str(raised.value)


async def test_an_unknown_host_name_is_a_delivery_error_that_says_so() -> None:
    transport = SmtpMailTransport("smtp://relay:hunter2@mail.gatehouse-test.invalid:2525", SENDER)

    async with asyncio.timeout(10):
        with pytest.raises(MailDeliveryError) as raised:
            await transport.send(pending_mail())
    assert str(raised.value) == (
        "SMTP server mail.gatehouse-test.invalid:2525: host name not found (SMTPConnectError)"
    )


async def test_a_server_that_never_greets_fails_within_the_timeout() -> None:
    with socket.create_server((HOST, 0)) as silent:  # accepts connections (backlog), never speaks
        port = silent.getsockname()[1]
        transport = SmtpMailTransport(f"smtp://{HOST}:{port}", SENDER, timeout_s=0.3)

        async with asyncio.timeout(5):
            with pytest.raises(MailDeliveryError, match=f"{HOST}:{port}: no answer within 0.3 s"):
                await transport.send(pending_mail())


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://relay:{PLAIN_PASSWORD}@mail.example.com",
        f"smtp://relay:{PLAIN_PASSWORD}@",
        f"smtp://relay:{PLAIN_PASSWORD}@:25",
        f"smtp://relay:{PLAIN_PASSWORD}@mail.example.com:99999",
        f"smtp://relay:{PLAIN_PASSWORD}@mail.example.com:smtp",
        f"smtp://:{PLAIN_PASSWORD}@mail.example.com",
        f"relay:{PLAIN_PASSWORD}@mail.example.com",
        f"smtp://relay:{PASSWORD}@mail.example.com",
        "",
    ],
)
def test_a_bad_url_is_a_value_error_that_does_not_repeat_the_password(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP URL") as raised:
        SmtpMailTransport(url, SENDER)
    assert "s3c" not in str(raised.value)
    with pytest.raises(ValueError, match="SMTP URL") as parsed:
        parse_smtp_url(url)
    assert "s3c" not in str(parsed.value)


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://mail.example.com", "plain", 25),
        ("smtp+starttls://mail.example.com", "starttls", 587),
        ("SMTPS://mail.example.com", "tls", 465),
        ("smtp+starttls://mail.example.com:2525", "starttls", 2525),
    ],
)
def test_each_scheme_has_its_security_and_default_port(url: str, security: str, port: int) -> None:
    endpoint = parse_smtp_url(url)

    assert (endpoint.security, endpoint.host, endpoint.port) == (security, "mail.example.com", port)
    assert endpoint.username is None
    assert endpoint.password is None


def test_the_parsed_password_is_decoded_and_kept_out_of_the_repr() -> None:
    endpoint = parse_smtp_url("smtps://relay%40example.com:s3cr%3At%2Fp%40ss%25@[::1]:4465")

    assert (endpoint.username, endpoint.password) == ("relay@example.com", PASSWORD)
    assert (endpoint.host, endpoint.port) == ("::1", 4465)
    assert PASSWORD not in repr(endpoint)
