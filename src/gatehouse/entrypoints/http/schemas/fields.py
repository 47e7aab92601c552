"""Field types shared by the request bodies, and their strict base (an unknown field is a 422)."""

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from gatehouse.entrypoints.http.openapi_document import PASSWORD_MARK

EMAIL_FORMAT = r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$"  # checked by the domain (422)
EmailText = Annotated[
    str,
    Meta(
        max_length=254,
        description="Lower-cased on storage",
        examples=["ada@example.com"],
        extra_json_schema={"pattern": EMAIL_FORMAT},
    ),
]
UsernameText = Annotated[
    str, Meta(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_]+$", examples=["ada_l"])
]
FullNameText = Annotated[str, Meta(max_length=200, examples=["Ada Lovelace"])]
PasswordText = Annotated[str, Meta(max_length=1024, description="The account's password, as it was set")]
NewPasswordText = Annotated[
    str,
    Meta(
        max_length=128,
        examples=["Analytical1-Engine"],
        # The policy in force checks the rest (422); the document states its rules (openapi_document.py).
        extra_json_schema={PASSWORD_MARK: True},
    ),
]
RoleName = Literal["admin", "moderator", "user"]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Request bodies: unknown fields are a 422."""
