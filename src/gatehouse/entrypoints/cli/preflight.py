"""What `gatehouse serve` checks before it hands over to uvicorn, so a mistake is one clear line."""

import errno
import logging
import socket
import threading
from urllib.parse import urlsplit

SMTP_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
RESOLVE_TIMEOUT_S = 3.0
log = logging.getLogger("gatehouse")


class PreflightError(Exception):
    """`serve` can't start as asked; the message names the option and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_can_listen(host: str, port: int) -> None:
    """Bind every address `host` stands for, as uvicorn is about to (SO_REUSEADDR), then let go.

    Without this, uvicorn with one worker starts the application (and logs "Application startup
    complete") before its bind fails, and then exits with a bare errno line."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
    except socket.gaierror:
        raise PreflightError(
            f"--host {host}: not an address or a host name this machine can resolve"
        ) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PreflightError(f"--port {port}: {where} is already in use (another server?)") from None
        reason = exc.strerror or type(exc).__name__
        raise PreflightError(f"--host {host} --port {port}: cannot listen on {where}: {reason}") from None


def warn_if_smtp_host_unresolvable(smtp_url: str | None) -> None:
    """One warning log line when the SMTP server's name does not resolve: mail would only pile
    up in the outbox, retried in vain, with nothing at start to say why. Never blocks the start
    for longer than `RESOLVE_TIMEOUT_S` (a resolver that does not answer is reported too)."""
    if not smtp_url:
        return
    parts = urlsplit(smtp_url)
    host = parts.hostname or ""
    port = parts.port or SMTP_DEFAULT_PORTS.get(parts.scheme.lower(), 25)
    outcome: list[str | None] = []
    resolver = threading.Thread(target=lambda: outcome.append(_resolve(host, port)), daemon=True)
    resolver.start()
    resolver.join(RESOLVE_TIMEOUT_S)
    reason = outcome[0] if outcome else f"no answer from the resolver within {RESOLVE_TIMEOUT_S:g} s"
    if reason is not None:
        log.warning(
            "smtp_host_unresolvable",
            extra={"event": "smtp_host_unresolvable", "host": host, "port": port, "reason": reason},
        )


def _resolve(host: str, port: int) -> str | None:
    """None when `host` resolves, else why not."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:  # socket.gaierror, and any other resolver failure
        return exc.strerror or type(exc).__name__
    return None
