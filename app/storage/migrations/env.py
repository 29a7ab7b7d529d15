"""Alembic's environment: the app runs it at start-up with its own connection (`app/storage/migrate.py`); the
`alembic` command (configured in pyproject.toml) runs it on DATABASE_URL, e.g. `alembic revision --autogenerate`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from app.storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.storage.migrate import configure_context


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        configure_context(context, connection, SQLModel.metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    from app.settings import Settings
    from app.storage.database import create_engine_for

    with create_engine_for(Settings().database_url).connect() as own:
        configure_context(context, own, SQLModel.metadata)
        with context.begin_transaction():
            context.run_migrations()


run()
