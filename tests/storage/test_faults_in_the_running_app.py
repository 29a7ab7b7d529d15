"""The running app under faults of its storage: killed mid-stream, its database held by another process, its disk
full. What any client was shown is stored, every time; replies end once the database is writable again."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import threading
import time

import httpx
import pytest

from tests.app_process import chat_app, fake_providers
from tests.fakes.provider_server import Reply

API_KEY = "chat-key-for-fault-tests"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


class Stream(threading.Thread):
    """One API client streaming a reply, keeping every token it was shown."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(daemon=True)
        self.url, self.message = url, message
        self.shown: list[str] = []
        self.final: dict | None = None

    def run(self) -> None:
        body = {"message": self.message, "model": "openai:gpt-4o-mini"}
        try:
            with httpx.stream("POST", self.url + "/api/chat", json=body, headers=AUTH, timeout=60) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        if "token" in event:
                            self.shown.append(event["token"])
                        elif event.get("done"):
                            self.final = event
        except httpx.TransportError:
            pass  # the server was killed under it

    @property
    def text(self) -> str:
        return "".join(self.shown)


def stored_replies(url: str) -> dict[str, dict]:
    """Each conversation's first message → its reply as stored."""
    found = {}
    for conversation in httpx.get(url + "/api/conversations", headers=AUTH).json()["conversations"]:
        messages = httpx.get(url + f"/api/conversations/{conversation['id']}", headers=AUTH).json()["messages"]
        found[messages[0]["content"]] = messages[-1]
    return found


def slow_replies(count: int, tokens: int = 150, delay: float = 0.006) -> list[Reply]:
    return [Reply(tokens=[f"t{i}·{n} " for i in range(tokens)], delay=delay) for n in range(count)]


def test_after_a_kill_at_any_moment_the_stored_text_holds_everything_that_was_shown(tmp_path):
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)
    rounds, streams_per_round = 4, 6
    streams: list[Stream] = []
    with fake_providers() as fakes:
        fakes["openai"].play(*slow_replies(rounds * streams_per_round))
        for round_number in range(rounds):
            with chat_app(tmp_path, fakes=fakes, CHAT_API_KEY=API_KEY) as server:
                batch = [Stream(server.url, f"Round {round_number} stream {n}") for n in range(streams_per_round)]
                for stream in batch:
                    stream.start()
                time.sleep(chance.uniform(0.3, 1.3))
                server.process.kill()
                for stream in batch:
                    stream.join(timeout=10)
                streams += batch
        with chat_app(tmp_path, fakes=fakes, CHAT_API_KEY=API_KEY) as server:
            stored = stored_replies(server.url)

    interrupted = [s for s in streams if s.final is None]
    assert interrupted, f"seed {seed}: every stream had ended before the kill; nothing was tested"
    assert sum(bool(s.shown) for s in interrupted) >= len(interrupted) // 2, f"seed {seed}: too few tokens shown"
    for stream in streams:
        reply = stored[stream.message]
        assert reply["content"].startswith(stream.text), f"seed {seed}: {stream.message} lost text it had shown"
        assert reply["status"] == ("complete" if stream.final else "interrupted"), f"seed {seed}"


def test_replies_that_stream_and_end_while_another_process_holds_the_database_are_all_stored(tmp_path):
    with chat_app(tmp_path, CHAT_API_KEY=API_KEY) as server:
        server.fakes["openai"].play(*slow_replies(3, tokens=60, delay=0.05))
        streams = [Stream(server.url, f"Held {n}") for n in range(3)]
        for stream in streams:
            stream.start()
        time.sleep(0.8)
        holder = sqlite3.connect(tmp_path / "chat.db", timeout=0, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        page_times = []
        for _ in range(5):  # pages and the API answer meanwhile: nothing waits for the lock on the event loop
            started = time.monotonic()
            assert httpx.get(server.url + "/", timeout=10).status_code == 200
            assert httpx.get(server.url + "/api/conversations", headers=AUTH, timeout=10).status_code == 200
            page_times.append(time.monotonic() - started)
            time.sleep(1)
        shown_while_held = [stream.text for stream in streams]
        assert all(stream.final is None for stream in streams), "a reply ended before its end was stored"
        holder.execute("ROLLBACK")
        holder.close()
        for stream in streams:
            stream.join(timeout=30)
        stored = stored_replies(server.url)

    assert max(page_times) < 1.0, page_times
    for stream, shown_then in zip(streams, shown_while_held, strict=True):
        reply = stored[stream.message]
        assert stream.final is not None and stream.final["finish_reason"] == "stop"
        assert reply["status"] == "complete" and len(reply["content"].split()) == 60, "a whole reply, stored"
        assert stream.text == reply["content"] and reply["content"].startswith(shown_then)
    assert "Saving replies failed" in server.printed[0] and "Saving replies works again" in server.printed[0]


def run_in_namespace_of(pid: int, command: str) -> None:
    subprocess.run(["nsenter", "-t", str(pid), "-m", "sh", "-c", command], check=False, timeout=30)


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB disk that only the app's process sees: a tmpfs in a mount namespace of its own (needs root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("mount namespaces are not available here (needs root)")
    prefix = [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs -o size=4m tmpfs "$0" && exec "$@"',
    ]
    return disk, [*prefix, str(disk)]


def test_a_full_disk_mid_reply_loses_nothing_and_the_reply_ends_once_there_is_room(tmp_path, small_disk):
    disk, prefix = small_disk
    with chat_app(
        tmp_path, prefix=prefix, database_url=f"sqlite:///{disk / 'chat.db'}", CHAT_API_KEY=API_KEY
    ) as server:
        server.fakes["openai"].play(*slow_replies(1, tokens=120, delay=0.03))
        stream = Stream(server.url, "Fill the disk")
        stream.start()
        time.sleep(0.6)
        run_in_namespace_of(server.process.pid, f"cat /dev/zero > {disk / 'filler'} 2>/dev/null; true")
        time.sleep(4.5)  # the reply ends meanwhile: its end cannot be stored yet
        shown_while_full = stream.text
        assert stream.final is None
        run_in_namespace_of(server.process.pid, f"rm {disk / 'filler'}")
        stream.join(timeout=30)
        stored = stored_replies(server.url)

    expected = "".join(f"t{i}·0 " for i in range(120))
    assert expected.startswith(shown_while_full) and len(shown_while_full) < len(expected)
    assert stream.text == expected and stream.final["finish_reason"] == "stop"
    assert stored["Fill the disk"] == {**stored["Fill the disk"], "content": expected, "status": "complete"}
    assert "full" in server.printed[0] and "Saving replies works again" in server.printed[0]
