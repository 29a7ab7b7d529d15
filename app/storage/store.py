"""What every store shares: an engine, and sessions that keep their objects readable after commit."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)
