"""Opaque, tamper-proof cursors: the resume point plus the query it belongs to, signed with HMAC."""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from gatehouse.application.ports.paging import After, KeysetPage, KeysetQuery, SortValue
from gatehouse.entrypoints.http.problems import BadRequestError

MAC_BYTES = 16
INVALID = "Invalid cursor: it was not issued for this query"


class _Payload(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    kind: str  # "i" int, "s" str, "d" datetime
    value: int | str
    id: int
    query: str


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"gatehouse cursor v1", hashlib.sha256).digest()


class CursorCodec:
    """Cursors are signed with a key derived from the JWT secret; retired secrets still verify."""

    def __init__(self, secret: str, previous_secrets: Sequence[str] = ()) -> None:
        self._signing_key = _key(secret)
        self._keys = [self._signing_key, *(_key(s) for s in previous_secrets)]

    def encode(self, after: After, query: str) -> str:
        value = after.value
        if isinstance(value, datetime):
            payload = _Payload("d", value.isoformat(), after.id, query)
        elif isinstance(value, int):
            payload = _Payload("i", value, after.id, query)
        else:
            payload = _Payload("s", value, after.id, query)
        raw = msgspec.json.encode(payload)
        mac = hmac.new(self._signing_key, raw, hashlib.sha256).digest()[:MAC_BYTES]
        return base64.urlsafe_b64encode(raw + mac).rstrip(b"=").decode()

    def decode(self, cursor: str, query: str) -> After:
        """The resume point; 400 when the cursor is malformed, forged, edited or from another query."""
        try:
            blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise BadRequestError(INVALID) from None
        raw, mac = blob[:-MAC_BYTES], blob[-MAC_BYTES:]
        if len(blob) <= MAC_BYTES or not any(self._verifies(key, raw, mac) for key in self._keys):
            raise BadRequestError(INVALID)
        payload = msgspec.json.decode(raw, type=_Payload)
        if payload.query != query:
            raise BadRequestError(INVALID)
        return After(_value(payload), payload.id)

    def resume(self, cursor: str | None, query: KeysetQuery) -> After | None:
        """Where the page after `cursor` starts in `query`'s walk; None for its first page."""
        return self.decode(cursor, query.scope()) if cursor else None

    def next_cursor(self, page: KeysetPage[Any], query: KeysetQuery) -> str | None:
        """The cursor of the page after `page` in `query`'s walk; None after the last."""
        return self.encode(page.next_after, query.scope()) if page.next_after else None

    @staticmethod
    def _verifies(key: bytes, raw: bytes, mac: bytes) -> bool:
        return hmac.compare_digest(hmac.new(key, raw, hashlib.sha256).digest()[:MAC_BYTES], mac)


def _value(payload: _Payload) -> SortValue:
    if payload.kind == "d" and isinstance(payload.value, str):
        return datetime.fromisoformat(payload.value)
    return payload.value
