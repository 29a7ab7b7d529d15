"""Start-up brings the database to the newest schema with Alembic (revisions in `migrations/versions/`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Made by the search revision, not by the models: autogenerate must neither drop nor recreate them.
SEARCH_OBJECTS = ("message_fts", "ix_message_search")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Every revision this database has not had yet, in one transaction (a failure leaves it as it was)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def configure_context(context, connection: Connection, metadata: MetaData) -> None:
    """How env.py sets Alembic up, wherever it runs from. Batch mode, because SQLite cannot ALTER most things."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=_made_by_the_models,
    )


def _made_by_the_models(_object, name: str | None, kind: str, _reflected: bool, _compare_to) -> bool:
    return not (name or "").startswith(SEARCH_OBJECTS)
