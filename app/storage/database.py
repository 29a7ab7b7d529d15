"""Engine creation: SQLite gets WAL and a busy timeout so a crash or a second writer loses nothing."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import SQLModel, create_engine

from app.storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.storage.search import install_search


def failure_reason(error: BaseException) -> str:
    """What a database failure says, in one short line: the driver's own words (`database is locked`, `database or
    disk is full`) rather than SQLAlchemy's wrapping of them."""
    return " ".join(str(getattr(error, "orig", None) or error).split())[:200]


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened: the message names it and says why, in one line."""


def create_database(url: str, busy_timeout: float = 5.0) -> Engine:
    """Create the engine and the tables; for SQLite also the file's folder. `busy_timeout`: seconds a SQLite write
    waits for another writer's lock."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DatabaseUnavailable(f"DATABASE_URL is not a database URL ({error}).") from None
    where = parsed.database if parsed.get_backend_name() == "sqlite" else parsed.render_as_string(hide_password=True)
    try:
        return _open(parsed, busy_timeout)
    except (OSError, SQLAlchemyError) as error:
        raise DatabaseUnavailable(f"the database {where} cannot be opened: {failure_reason(error)}") from None


def _open(parsed: URL, busy_timeout: float) -> Engine:
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"check_same_thread": False} if is_sqlite else {}
    engine = create_engine(parsed, connect_args=connect_args)
    if is_sqlite:
        event.listen(engine, "connect", partial(_configure_sqlite_connection, busy_ms=round(busy_timeout * 1000)))
    SQLModel.metadata.create_all(engine)
    if "message.parent_id" in _add_missing_columns(engine):
        _link_linear_history(engine)
    install_search(engine)
    return engine


def _add_missing_columns(engine: Engine) -> set[str]:
    """A database made by an earlier version lacks the columns added since; they are all nullable, so adding them
    is most of the migration. Returns the columns added, as `table.column`."""
    added: set[str] = set()
    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in SQLModel.metadata.sorted_tables:
            existing = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in existing:
                    if not column.nullable:
                        raise RuntimeError(f"{table.name}.{column.name} is new and required: it needs a migration")
                    column_type = column.type.compile(engine.dialect)
                    connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {column_type}'))
                    added.add(f"{table.name}.{column.name}")
    return added


def _link_linear_history(engine: Engine) -> None:
    """Before branches, a conversation was its messages in order: each follows the one before it, and the last is
    the branch on show."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE message SET parent_id = (SELECT MAX(earlier.id) FROM message AS earlier "
                "WHERE earlier.conversation_id = message.conversation_id AND earlier.id < message.id)"
            )
        )
        last = "SELECT MAX(id) FROM message WHERE message.conversation_id = conversation.id"
        connection.execute(text(f"UPDATE conversation SET leaf_id = ({last})"))


def _configure_sqlite_connection(dbapi_connection, _record, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    # NORMAL is durable across application crashes in WAL mode; only a power loss can drop the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
