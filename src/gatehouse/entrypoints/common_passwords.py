"""The bundled common-password list used by the NIST policy (Django's list, BSD-3-Clause)."""

import gzip
from functools import cache
from importlib.resources import files


@cache
def load_common_passwords() -> frozenset[str]:
    """About 20,000 leaked passwords, lower-cased; read once per process."""
    raw = files("gatehouse.entrypoints").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(
        line.strip().lower() for line in gzip.decompress(raw).decode().splitlines() if line.strip()
    )
