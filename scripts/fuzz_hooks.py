"""Schemathesis hooks for `make fuzz`, loaded by scripts/fuzz.py (SCHEMATHESIS_HOOKS).

A client sends a fresh `Idempotency-Key` for each new request (CONTRACT §8). The fuzzer draws keys
from a small space and so sends one key again with another body, which is rightly refused (422)
and says nothing about the document. So every valid key it is about to send is made unique; an
invalid one (a negative case: too long, a control character, blank) is sent as it was drawn.
"""

import itertools
import re
from typing import Any

import schemathesis

from gatehouse.entrypoints.http.openapi import KEY_PATTERN

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
VALID_KEY = re.compile(KEY_PATTERN)
_fresh = itertools.count(1)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    key = (case.headers or {}).get(HEADER)
    if isinstance(key, str) and len(key) <= MAX_KEY_LENGTH and VALID_KEY.fullmatch(key):
        suffix = f"~{next(_fresh)}"
        case.headers[HEADER] = key[: MAX_KEY_LENGTH - len(suffix)] + suffix
