"""The README's way to fish a token out of the `.eml` files (walk-through steps 10 and 11), run as written."""

import subprocess
from pathlib import Path

# README step 10: T=$(grep -ho 'verify-email?token=[A-Za-z0-9_-]*' var/outbox/*.eml | tail -1 | cut -d= -f2)
PIPELINE = "grep -ho '{page}?token=[A-Za-z0-9_-]*' *.eml | tail -1 | cut -d= -f2"


def token_by_grep(folder: Path, page: str = "verify-email") -> str:
    """The token the README's `grep | tail | cut` finds in `folder`'s newest `.eml` file for `page`."""
    result = subprocess.run(
        ["sh", "-c", PIPELINE.format(page=page)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
