"""`python main.py` as a separate process on a free port, with fake providers: for tests that need a real server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
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


@dataclass
class AppProcess:
    port: int
    process: subprocess.Popen
    printed: list[str] = field(default_factory=list)  # everything it printed, once it has ended
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL, as a crash or the out-of-memory killer would end it: no shutdown, no last save."""
        self.killed = True
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def running_app(
    args: list[str], env: dict[str, str], cwd: Path, prefix: Sequence[str] = (), port: int | None = None
) -> Iterator[AppProcess]:
    """`python main.py ARGS` on `port` (a free one by default) until the block ends, then Ctrl+C. `prefix` runs
    it inside another command (`unshare ...`), which must exec it."""
    port = port or free_port()
    process = subprocess.Popen(
        [*prefix, sys.executable, str(PROJECT_ROOT / "main.py"), "--port", str(port), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started = AppProcess(port, process)
    try:
        wait_for_page(f"http://127.0.0.1:{port}/login", process)
        yield started
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        started.printed.append(output)
    assert started.killed or "Traceback" not in output, output


@dataclass
class RunningApp:
    url: str
    fakes: dict[str, FakeProviderServer]
    process: AppProcess

    @property
    def printed(self) -> list[str]:
        return self.process.printed


@contextmanager
def fake_providers() -> Iterator[dict[str, FakeProviderServer]]:
    fakes = {dialect: FakeProviderServer(dialect).start() for dialect in DIALECTS}
    try:
        yield fakes
    finally:
        for server in fakes.values():
            server.stop()


@contextmanager
def chat_app(
    tmp_path: Path,
    args: Sequence[str] = (),
    fakes: dict[str, FakeProviderServer] | None = None,
    prefix: Sequence[str] = (),
    database_url: str | None = None,
    port: int | None = None,
    **env: str,
) -> Iterator[RunningApp]:
    """The app with fake providers (new ones, unless given) and its database in `tmp_path` (unless given)."""
    with contextlib.ExitStack() as stack:
        fakes = fakes if fakes is not None else stack.enter_context(fake_providers())
        environment = child_environment(fakes, database_url or f"sqlite:///{tmp_path / 'chat.db'}")
        environment.update({name.upper(): str(value) for name, value in TEST_TUNING.items()})
        environment["MCP_CONFIG"] = str(tmp_path / "mcp.json")  # on PostgreSQL too: never the project's own file
        environment.update(env)
        with running_app(list(args), environment, tmp_path, prefix, port) as started:
            yield RunningApp(f"http://127.0.0.1:{started.port}", fakes, started)
