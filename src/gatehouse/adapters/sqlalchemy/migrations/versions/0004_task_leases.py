"""Housekeeping: the lease that lets one worker of many prune spent rows."""

import sqlalchemy as sa
from alembic import op

from gatehouse.adapters.sqlalchemy.tables import UtcDateTime

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # No row is seeded: the first worker to claim a lease inserts it.
    op.create_table(
        "task_leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("leased_until", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_task_leases"),
    )


def downgrade() -> None:
    op.drop_table("task_leases")
