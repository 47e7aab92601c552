"""Alembic environment: runs on the connection handed over by `migrate.upgrade`."""

from alembic import context
from sqlalchemy.engine import Connection

from gatehouse.adapters.sqlalchemy.tables import metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("Run migrations through `gatehouse db upgrade`, which supplies the connection")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
