"""Account lifecycle: verified emails, one-time tokens, the mail outbox and the audit trail."""

import sqlalchemy as sa
from alembic import op

from gatehouse.adapters.sqlalchemy.tables import Id, UtcDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes it with a constant default), not a batch table rebuild.
    op.add_column("users", sa.Column("email_verified", sa.Boolean, nullable=False, server_default=sa.false()))
    # Accounts that predate verification keep logging in when GATEHOUSE_REQUIRE_VERIFIED_EMAIL is on.
    op.execute(sa.text("UPDATE users SET email_verified = :yes").bindparams(yes=True))
    op.create_table(
        "account_tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("user_id", Id, nullable=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("used_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_account_tokens"),
        sa.UniqueConstraint("fingerprint", name="uq_account_tokens_fingerprint"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_account_tokens_user_id_users", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_account_tokens_user_id_purpose", "account_tokens", ["user_id", "purpose"])
    op.create_index("ix_account_tokens_expires_at", "account_tokens", ["expires_at"])
    op.create_table(
        "mail_outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("sent_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mail_outbox"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mail_outbox_status_next_attempt_at", "mail_outbox", ["status", "next_attempt_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor_id", Id, nullable=True),
        sa.Column("user_id", Id, nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_events_action_id", "audit_events", ["action", "id"])
    op.create_index("ix_audit_events_user_id_id", "audit_events", ["user_id", "id"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("mail_outbox")
    op.drop_table("account_tokens")
    op.drop_column("users", "email_verified")
