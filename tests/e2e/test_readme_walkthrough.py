"""The README's "A walk through the API with curl", run as written, so it can't drift from the service.

Every ```sh block of that section runs, in order, as one `bash` script under `set -euo pipefail`: any
command that fails (curl that can't connect, a token `grep` that finds nothing, JSON without the key
`python3` looks for, a CLI error) fails the test. The script runs in a scratch folder laid out like the
repository after `make run` (`var/` with the database and a signing secret, `.venv` the installed one),
against a real `gatehouse serve` started there, so the README's relative paths (`var/outbox/`,
`.venv/bin/gatehouse`) resolve as they do for a reader; `BASE` (the README's first line defaults it to
http://127.0.0.1:8000) points at the test's server instead. Each line keeps its README line number, so
the `set -x` trace in a failure message reads `README.md:<line>`. The answers the walk-through's
comments promise are then checked against what curl printed.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.e2e.cli_support import GATEHOUSE, clean_environment
from tests.gatehouse_server import GatehouseServer
from tests.servers import unavailable

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## A walk through the API with curl"
BLOCK = re.compile(r"^```(?:sh|bash)\n(.*?)^```", re.MULTILINE | re.DOTALL)
DEFAULT_BASE = "${BASE:-http://127.0.0.1:8000}"
SCRIPT_TIMEOUT_S = 120
# The status line of every `curl -si` in the walk-through, in order (curl prints no newline after a
# body, so the next status line may follow it on the same line).
STATUS_LINE = re.compile(r"HTTP/[0-9.]+ (\d{3}) ")
STATUSES = [
    201,  # 1. sign-up
    200,  # 3. who am I (with its ETag)
    200,  # 4. PATCH with If-Match "v1"
    412,  # 4. the same If-Match again, now stale
    201,  # 5. the order, with an Idempotency-Key
    204,  # 9. log-out
    204,  # 10. verify-email with the mailed token
    202,  # 11. password-reset
    204,  # 11. password-reset/confirm with the mailed token
    204,  # 12. ending session 3, the current one
    403,  # 14. a right password with MFA on: the challenge
    200,  # 14. the second step with a code
    201,  # 15. a new API token
    200,  # 15. the user list, called with it
    403,  # 15. a password change, refused to it
]


def walkthrough_script(readme: str) -> str:
    """The section's sh blocks as one script whose line N is README line N (blank elsewhere)."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start : end if end != -1 else len(readme)]
    blocks = list(BLOCK.finditer(section))
    assert blocks, f"no ```sh block under {SECTION!r}"
    first_line = readme.count("\n", 0, start) + 1  # README line of the section's first character
    lines = [""] * (readme.count("\n") + 1)
    lines[0] = "set -euo pipefail; PS4='+ README.md:${LINENO}: '; set -x"  # README line 1 is its title
    for block in blocks:
        offset = first_line + section.count("\n", 0, block.start(1))
        for index, line in enumerate(block.group(1).splitlines()):
            lines[offset - 1 + index] = line
    return "\n".join(lines) + "\n"


def walkthrough_environment(scratch: Path, base: str) -> dict[str, str]:
    """A reader's shell: no GATEHOUSE_* settings, no proxy, no ~/.curlrc; mktemp inside the scratch folder."""
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("GATEHOUSE_") and name.lower() not in proxies
    }
    (scratch / "shell-tmp").mkdir()
    env.update(BASE=base, TMPDIR=str(scratch / "shell-tmp"), CURL_HOME=str(scratch))
    return env


def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    for tool in ("bash", "curl", "python3", "grep"):
        if shutil.which(tool) is None:
            unavailable(f"the README's walk-through needs {tool}, which is not installed")
    script = walkthrough_script(README.read_text())
    hard_coded = script.replace(DEFAULT_BASE, "")
    assert "127.0.0.1:8000" not in hard_coded, "the walk-through must reach the server through $BASE"

    # The repository after `make run`: a migrated var/gatehouse.db, var/jwt_secret, .venv.
    (tmp_path / ".venv").symlink_to(Path(GATEHOUSE).parent.parent)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "jwt_secret").write_text("a-walkthrough-signing-secret-of-more-than-32-bytes\n")
    (tmp_path / "var" / "data_key").write_text("a-walkthrough-data-key-of-more-than-32-bytes-too\n")
    upgrade = subprocess.run(
        [".venv/bin/gatehouse", "db", "upgrade"],
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    (tmp_path / "walkthrough.sh").write_text(script)

    with GatehouseServer(tmp_path, {}) as server:  # default settings, as `make run`
        server.start()
        run = subprocess.run(
            ["bash", "walkthrough.sh"],
            cwd=tmp_path,
            env=walkthrough_environment(tmp_path, server.url),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_S,
            check=False,
        )
        failure = f"stdout:\n{run.stdout}\ntrace (stderr), last lines:\n{run.stderr[-4000:]}"
        assert run.returncode == 0, f"the walk-through stopped (exit {run.returncode})\n{failure}"
        assert not server.events("api_error"), server.output()
        assert server.stop() == 0

    out = run.stdout
    assert [int(status) for status in STATUS_LINE.findall(out)] == STATUSES, failure
    assert 'etag: "v2"' in out.lower(), failure  # 4. the update's new ETag
    assert '"status":"cancelled"' in out, failure  # 6. the owner cancelled the pending order
    assert out.count('"next_cursor":null') >= 2, failure  # 7. one v2 page, by path and by header
    assert '"error":"AuthenticationError"' in out, failure  # 9. the logged-out token: 401
    assert f"{server.url}/account/verify-email?token=" in out, failure  # 10. the mailed link
    assert '"error":"ConflictError"' in out, failure  # 10. resend when already verified: 409
    assert re.search(r'"items":\[\{"id":3,[^]]*"current":true', out), failure  # 12. session 3
    assert '"role":"admin"' in out, failure  # 13. `users create` printed the admin
    assert '"action":"auth.password_reset"' in out, failure  # 13. the audit trail over HTTP
    assert re.search(r"^\s*\d+\s+\S+Z\s+auth\.password_reset\s+1\s", out, re.MULTILINE), failure  # CLI
    assert '"error":"MfaRequiredError"' in out, failure  # 14. the challenge
    assert '"mfa_token":"' in out, failure
    assert out.count('"access_token":"') >= 2, failure  # 8. refresh, and 14. the second step
    assert re.search(r'"token":"gat_[A-Za-z0-9]{46}"', out), failure  # 15. the token, shown once
    assert '"active":true' in out, failure  # 15. introspection
    assert '"token_type":"access_token"' in out, failure
    assert re.search(r"^\s*1\s+2\s+nightly report\s", out, re.MULTILINE), failure  # 15. `tokens list`
    # `rm -r $W` ran, and no token file landed anywhere else.
    assert not any((tmp_path / "shell-tmp").iterdir()), "the walk-through's scratch folder was not removed"
    left = {path.name for folder in (tmp_path, tmp_path / "var") for path in folder.iterdir()}
    assert not left & {"tokens.json", "admin.json", "totp.json", "step1.txt", "token.txt"}, sorted(left)
