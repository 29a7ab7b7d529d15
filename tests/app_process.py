"""`python main.py` as a separate process on a free port, with fake providers: for tests that need a real server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import DIALECTS, TEST_TUNING, WITHOUT_LOCAL_MODELS
from tests.fakes.provider_server import FakeProviderServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_environment(fakes, database_url: str) -> dict[str, str]:
    # A child of pytest must not look like a NiceGUI test run (PYTEST_CURRENT_TEST makes it expect a screen test).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_"))}
    env["DATABASE_URL"] = database_url
    env.update({name.upper(): value for name, value in WITHOUT_LOCAL_MODELS.items()})
    for dialect, server in fakes.items():
        env[f"{dialect.upper()}_API_KEY"] = server.api_key
        env[f"{dialect.upper()}_BASE_URL"] = server.base_url
    return env


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening socket on `port`, read from the kernel's table (IPv4)."""
    addresses = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address_hex, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            addresses.add(socket.inet_ntoa(bytes.fromhex(address_hex)[::-1]))
    return addresses


def wait_for_page(url: str, process: subprocess.Popen, timeout: float = 30) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@contextmanager
def running_app(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[tuple[int, list[str]]]:
    """`python main.py ARGS` on a free port until the block ends, then Ctrl+C; yields the port and, afterwards,
    holds everything it printed."""
    port = free_port()
    printed: list[str] = []
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "main.py"), "--port", str(port), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_page(f"http://127.0.0.1:{port}/login", process)
        yield port, printed
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
        printed.append(output)
    assert "Traceback" not in output, output


@dataclass
class RunningApp:
    url: str
    fakes: dict[str, FakeProviderServer]
    printed: list[str] = field(default_factory=list)


@contextmanager
def chat_app(tmp_path: Path, args: list[str] = (), **env: str) -> Iterator[RunningApp]:
    fakes = {dialect: FakeProviderServer(dialect).start() for dialect in DIALECTS}
    environment = child_environment(fakes, f"sqlite:///{tmp_path / 'chat.db'}")
    environment.update({name.upper(): str(value) for name, value in TEST_TUNING.items()})
    environment.update(env)
    try:
        with running_app(list(args), environment, tmp_path) as (port, printed):
            yield RunningApp(f"http://127.0.0.1:{port}", fakes, printed)
    finally:
        for server in fakes.values():
            server.stop()
