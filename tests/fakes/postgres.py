"""A throwaway PostgreSQL server for the tests: a temporary data folder, listening on a Unix socket only (no TCP
port, so nothing off this machine can reach it, and it reaches nothing), with durability off for speed. Installed
by tests/storage/install-postgresql.sh where missing. initdb refuses to run as root: as root, the server runs as
the `postgres` user the package creates."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from itertools import count
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

INSTALL = Path(__file__).resolve().parents[1] / "storage" / "install-postgresql.sh"
SPEED_OVER_DURABILITY = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _binaries() -> Path | None:
    if found := shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    # Only names the socket file (.s.PGSQL.<port>); the server opens no TCP port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="chat-postgres-"))
        self.data, self.socket_dir, self.port = self.folder / "data", self.folder, _free_port()
        self._names = count(1)
        self._admin: Engine | None = None

    def start(self) -> PostgresServer:
        binaries = _binaries()
        if binaries is None:
            subprocess.run(["bash", str(INSTALL)], check=True)
            binaries = _binaries()
        assert binaries, "PostgreSQL could not be installed: run tests/storage/install-postgresql.sh as root"
        if os.geteuid() == 0:
            os.chown(self.folder, pwd.getpwnam("postgres").pw_uid, -1)
        self._run(binaries / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' {SPEED_OVER_DURABILITY}"
        self._run(binaries / "pg_ctl", "-D", self.data, "-o", options, "-l", self.folder / "log", "-w", "start")
        self._binaries = binaries
        self._admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        return self

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
            self._run(self._binaries / "pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self, template: str | None = None) -> str:
        """A database of its own for one test, empty or a copy of `template`; returns its URL."""
        name = f"chat_{next(self._names)}"
        copy = f" TEMPLATE {template}" if template else ""
        with self._admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}{copy}"))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def _run(self, *command: object) -> None:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_user, *map(str, command)], check=True, capture_output=True, cwd=self.folder)
