"""Small explicit mappings between rows and domain objects."""

from typing import Any

from gatehouse.domain.user import Session, User
from gatehouse.domain.values import Email, FullName, Role, Username


def to_user(row: Any) -> User:
    """A `users` row (a Row or a mapping with the same keys) as a `User`."""
    m = row._mapping if hasattr(row, "_mapping") else row
    return User(
        id=m["id"],
        email=Email(m["email"]),
        username=Username(m["username"]),
        full_name=FullName(m["full_name"]) if m["full_name"] is not None else None,
        role=Role(m["role"]),
        is_active=bool(m["is_active"]),
        password_hash=m["password_hash"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        version=m["version"],
        email_verified=bool(m["email_verified"]),
    )


def user_values(user: User) -> dict[str, Any]:
    """The editable columns of a `User`."""
    return {
        "email": user.email.value,
        "username": user.username.value,
        "full_name": user.full_name.value if user.full_name else None,
        "role": user.role.value,
        "is_active": user.is_active,
        "email_verified": user.email_verified,
        "updated_at": user.updated_at,
    }


def to_session(row: Any) -> Session:
    m = row._mapping
    return Session(
        id=m["id"],
        user_id=m["user_id"],
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
        ip=m["ip"],
        user_agent=m["user_agent"],
    )
