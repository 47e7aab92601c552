"""Multi-factor authentication: enrolments (sealed TOTP secrets), recovery codes, log-in challenges."""

import sqlalchemy as sa
from alembic import op

from gatehouse.adapters.sqlalchemy.tables import Id, UtcDateTime

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("users", sa.Column("mfa_enabled", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "mfa_enrolments",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("confirmed_at", UtcDateTime, nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_mfa_enrolments"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_mfa_enrolments_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("used_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mfa_recovery_codes"),
        sa.UniqueConstraint("user_id", "digest", name="uq_mfa_recovery_codes_user_id_digest"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_mfa_recovery_codes_user_id_users", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "mfa_challenges",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("throttle_key", sa.String(300), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("used_at", UtcDateTime, nullable=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_mfa_challenges"),
        sa.UniqueConstraint("fingerprint", name="uq_mfa_challenges_fingerprint"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_mfa_challenges_user_id_users", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mfa_challenges_user_id", "mfa_challenges", ["user_id"])
    op.create_index("ix_mfa_challenges_expires_at", "mfa_challenges", ["expires_at"])


def downgrade() -> None:
    op.drop_table("mfa_challenges")
    op.drop_table("mfa_recovery_codes")
    op.drop_table("mfa_enrolments")
    op.drop_column("users", "mfa_enabled")
