"""Engine creation: SQLite gets WAL and a busy timeout so a crash or a second writer loses nothing."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import create_engine

from app.storage.migrate import upgrade_to_head
from app.storage.search import fold


def failure_reason(error: BaseException) -> str:
    """What a database failure says, in one short line: the driver's own words (`database is locked`, `database or
    disk is full`) rather than SQLAlchemy's wrapping of them."""
    return " ".join(str(getattr(error, "orig", None) or error).split())[:200]


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened: the message names it and says why, in one line."""


def create_database(url: str, busy_timeout: float = 5.0) -> Engine:
    """Create the engine and bring the schema to the newest revision; for SQLite also the file's folder.
    `busy_timeout`: seconds a SQLite write waits for another writer's lock."""
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
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine_for(parsed, busy_timeout)
    upgrade_to_head(engine)
    return engine


def create_engine_for(url: str | URL, busy_timeout: float = 5.0) -> Engine:
    """The engine alone, its schema as it is (the `alembic` command and start-up migrate it)."""
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    engine = create_engine(parsed, connect_args={"check_same_thread": False} if is_sqlite else {})
    if is_sqlite:
        event.listen(engine, "connect", partial(_configure_sqlite_connection, busy_ms=round(busy_timeout * 1000)))
    return engine


def _configure_sqlite_connection(dbapi_connection, _record, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    # NORMAL is durable across application crashes in WAL mode; only a power loss can drop the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # What PostgreSQL's chat_fold() does (made by the search revision): search ignores case and accents.
    dbapi_connection.create_function("chat_fold", 1, fold, deterministic=True)
