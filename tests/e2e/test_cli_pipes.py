"""§1: the CLI never prints a traceback — not even when the reader of its output goes away."""

import subprocess
from pathlib import Path

from tests.e2e.cli_support import GATEHOUSE, Cli


def test_output_cut_off_by_its_pipe_ends_quietly_with_the_shells_sigpipe_status(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.ok("db", "upgrade")
    cli.ok("users", "create", "--email", "a@example.com", "--username", "ada", "--password", "Secret123x")

    # `true` reads nothing and exits at once: every line the CLI prints meets a closed pipe.
    run = subprocess.run(
        ["bash", "-c", f"'{GATEHOUSE}' audit list | true; exit ${{PIPESTATUS[0]}}"],
        cwd=tmp_path,
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert "Traceback" not in run.stderr, run.stderr
    assert run.stderr == ""
    assert run.returncode == 141
