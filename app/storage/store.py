"""What every store shares: an engine, sessions that keep their objects readable after commit, and the plain
reads and writes of a table kept by its primary key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, delete, select

Row = TypeVar("Row", bound=SQLModel)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _all(self, table: type[Row], order_by) -> Sequence[Row]:
        with self._session() as session:
            return session.exec(select(table).order_by(order_by)).all()

    def _keep(self, row: SQLModel) -> None:
        """Insert the row, or replace the one with its key."""
        with self._session() as session:
            session.merge(row)
            session.commit()

    def _forget(self, table: type[SQLModel], key_is) -> None:
        """Delete the rows where `key_is` holds (`col(Table.key) == value`)."""
        with self._session() as session:
            session.exec(delete(table).where(key_is))
            session.commit()
