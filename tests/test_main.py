"""`python main.py` as a person runs it: a real process, a real port, loopback only."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.app_process import PROJECT_ROOT, child_environment, free_port, listening_addresses, running_app


def test_python_main_py_serves_the_chat_on_loopback_only(fakes, database_url, tmp_path):
    with running_app([], child_environment(fakes, database_url), tmp_path) as started:
        port = started.port
        page = httpx.get(f"http://127.0.0.1:{port}/")

        assert page.status_code == 200 and "<title>Chat</title>" in page.text
        assert listening_addresses(port) == {"127.0.0.1"}


def test_lan_sharing_listens_on_every_address_behind_a_generated_password(fakes, database_url, tmp_path):
    env = child_environment(fakes, database_url)

    with running_app(["--lan"], env, tmp_path) as started:
        port = started.port
        assert listening_addresses(port) == {"0.0.0.0"}
        page = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
        login = httpx.get(f"http://127.0.0.1:{port}/login")
        assert login.status_code == 200 and "Password" in login.text
        assert "sk-test-" not in login.text
    with running_app(["--lan"], env, tmp_path) as again:
        pass

    assert "Password for this chat (shown once" in started.printed[0]
    assert "Sharing on the network; open one of:" in started.printed[0]
    assert "Password for this chat" not in again.printed[0], "a restart keeps the password and does not print it"


def test_the_command_line_offers_host_and_port():
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "main.py"), "--help"], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0
    assert "--host" in result.stdout and "--port" in result.stdout


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda folder: (folder / "a-file").write_text("x") and folder / "a-file" / "chat.db", "File exists"),
        (
            lambda folder: (folder / "chat.db").write_bytes(b"not sqlite " * 200) and folder / "chat.db",
            "not a database",
        ),
    ],
    ids=["folder-is-a-file", "not-a-database"],
)
def test_a_database_that_cannot_be_opened_is_one_clear_line(fakes, tmp_path, make, reason):
    path = make(tmp_path)
    env = child_environment(fakes, f"sqlite:///{path}")

    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "main.py"), "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    said = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1
    assert len(said) == 1, said
    assert str(path) in said[0] and reason in said[0]
