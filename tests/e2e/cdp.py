"""A small Chrome DevTools Protocol client: headless Chromium driven over one websocket."""

import contextlib
import itertools
import json
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
# fmt: off
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage",
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-extensions", "--remote-debugging-port=0",
    # Every host name but 127.0.0.1 fails to resolve: nothing can come from the internet.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
# fmt: on
COMMAND_TIMEOUT_S = 30.0
POLL_S = 0.05


class CdpError(Exception):
    """The browser did not start, a command failed, or a condition did not hold in time."""


class Chromium:
    """One headless Chromium process and the browser-level DevTools connection to it."""

    def __init__(self, binary: str, profile: Path, *, start_deadline_s: float = 30.0) -> None:
        command = [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"]
        devnull = subprocess.DEVNULL
        self.process = subprocess.Popen(
            command, stdin=devnull, stdout=devnull, stderr=subprocess.PIPE, text=True
        )
        self.stderr: list[str] = []
        self.events: list[dict[str, Any]] = []  # every event read while waiting for an answer
        self._ids = itertools.count(1)
        self._endpoint = ""
        self._announced = threading.Event()
        self._socket: ClientConnection | None = None
        self._open = contextlib.ExitStack()
        # Drained for the whole life of the process, so a full pipe can never stall the browser.
        self._drain = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drain.start()
        if not self._announced.wait(start_deadline_s) or not self._endpoint:
            self.close()
            said = "".join(self.stderr)[-2000:]
            raise CdpError(f"no DevTools endpoint within {start_deadline_s}s:\n{said}")
        self._socket = self._open.enter_context(
            connect(self._endpoint, max_size=None, open_timeout=10, legacy=False)
        )

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            found = LISTENING.search(line)
            if found and not self._announced.is_set():
                self._endpoint = found[1]
                self._announced.set()
        self._announced.set()  # the process ended: stop waiting for the endpoint

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None) -> Any:
        """Run one command (in a page's `session`, if given) and return its result."""
        assert self._socket is not None, "the browser is closed"
        command_id = next(self._ids)
        message = {"id": command_id, "method": method, "params": params or {}}
        self._socket.send(json.dumps(message if session is None else {**message, "sessionId": session}))
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        while (remaining := deadline - time.monotonic()) > 0:
            reply = json.loads(self._socket.recv(timeout=remaining))
            if reply.get("id") != command_id:
                self.events.append(reply)
            elif "error" in reply:
                raise CdpError(f"{method}: {reply['error']}")
            else:
                return reply.get("result", {})
        raise CdpError(f"{method}: no answer within {COMMAND_TIMEOUT_S}s")

    def new_page(self) -> "Page":
        """A fresh tab, attached as a flat session that reports script errors and log entries."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        return Page(self, target, session)

    def close(self) -> None:
        self._socket = None
        self._open.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._drain.join(timeout=10)  # it ends at the pipe's end of file, once the process is gone
        if self.process.stderr is not None:
            self.process.stderr.close()


class Page:
    """One tab: navigate, evaluate JavaScript, type like a user, and wait for conditions."""

    def __init__(self, browser: Chromium, target: str, session: str) -> None:
        self.browser = browser
        self.target = target
        self.session = session

    def evaluate(self, expression: str) -> Any:
        """The value of `expression` (promises awaited); a thrown exception raises CdpError."""
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        result = self.browser.send("Runtime.evaluate", params, session=self.session)
        if "exceptionDetails" in result:
            raise CdpError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, deadline_s: float = 15.0) -> Any:
        """Poll until `expression` is truthy and return its value; CdpError after `deadline_s`.
        An evaluation that fails (the document is being replaced) counts as not yet."""
        deadline = time.monotonic() + deadline_s
        while True:
            try:
                value = self.evaluate(expression)
            except CdpError as error:
                value = error
            if value and not isinstance(value, CdpError):
                return value
            if time.monotonic() > deadline:
                raise CdpError(f"{expression!r} still {value!r} after {deadline_s}s")
            time.sleep(POLL_S)

    def navigate(self, url: str, deadline_s: float = 15.0) -> None:
        """Open `url` and wait until the new document (not the old one) has loaded."""
        self.evaluate("window.__cdpPreviousDocument = true")
        result = self.browser.send("Page.navigate", {"url": url}, session=self.session)
        if result.get("errorText"):
            raise CdpError(f"{url}: {result['errorText']}")
        self.wait_for("!window.__cdpPreviousDocument && document.readyState === 'complete'", deadline_s)

    def type_into(self, selector: str, text: str) -> None:
        """Replace the field's value as typed input (so constraints like `minlength` apply)."""
        self._on(selector, "el.focus(); el.select();")
        self.browser.send("Input.insertText", {"text": text}, session=self.session)

    def click(self, selector: str) -> None:
        self._on(selector, "el.click();")

    def _on(self, selector: str, statements: str) -> None:
        """Run `statements` with `el` bound to the first element that matches `selector`."""
        found = self.evaluate(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            f" if (!el) return false; {statements} return true; }})()"
        )
        if not found:
            raise CdpError(f"no element matches {selector!r}")

    def problems(self) -> list[str]:
        """Uncaught script errors and security (CSP) messages this tab reported so far."""
        found = []
        for event in (e for e in self.browser.events if e.get("sessionId") == self.session):
            params = event.get("params", {})
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(str(params.get("exceptionDetails")))
            elif event.get("method") == "Log.entryAdded" and params["entry"].get("source") == "security":
                found.append(str(params["entry"].get("text")))
        return found

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
