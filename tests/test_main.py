"""`python main.py` as a person runs it: a real process, a real port, loopback only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import WITHOUT_LOCAL_MODELS

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


def test_python_main_py_serves_the_chat_on_loopback_only(fakes, database_url, tmp_path):
    with running_app([], child_environment(fakes, database_url), tmp_path) as (port, _):
        page = httpx.get(f"http://127.0.0.1:{port}/")

        assert page.status_code == 200 and "<title>Chat</title>" in page.text
        assert listening_addresses(port) == {"127.0.0.1"}


def test_lan_sharing_listens_on_every_address_behind_a_generated_password(fakes, database_url, tmp_path):
    env = child_environment(fakes, database_url)

    with running_app(["--lan"], env, tmp_path) as (port, printed):
        assert listening_addresses(port) == {"0.0.0.0"}
        page = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
        login = httpx.get(f"http://127.0.0.1:{port}/login")
        assert login.status_code == 200 and "Password" in login.text
        assert "sk-test-" not in login.text
    with running_app(["--lan"], env, tmp_path) as (_, printed_again):
        pass

    assert "Password for this chat (shown once" in printed[0]
    assert "Sharing on the network; open one of:" in printed[0]
    assert "Password for this chat" not in printed_again[0], "a restart keeps the password and does not print it"


def test_the_command_line_offers_host_and_port():
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "main.py"), "--help"], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0
    assert "--host" in result.stdout and "--port" in result.stdout
