"""The Stats page with a long history: 10,000 and 100,000 stored replies (spread over the last week), in this app
(columns only, read once, percentiles in Python) and the naive way (every message loaded as an object with its
text, then counted), in the same run. Measured: computing the week's numbers, and GET /stats from a running
`python main.py` (the page built with its table and charts, for the last week) on 127.0.0.1.

    python benchmarks/stats.py            # 10,000 and 100,000 replies
    python benchmarks/stats.py --quick    # 10,000 only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.chat.stats import ReplyStats  # noqa: E402
from app.metrics import ChatMetrics  # noqa: E402
from app.storage.database import create_database  # noqa: E402
from app.storage.models import Conversation, Message, Role, Status  # noqa: E402
from app.storage.repository import ChatRepository  # noqa: E402
from tests.app_process import chat_app  # noqa: E402

MODELS = ("openai:gpt-4.1", "anthropic:claude-haiku-4-5", "together:meta-llama/Llama-3.3-70B-Instruct-Turbo")
STATUSES = (Status.COMPLETE,) * 17 + (Status.ERROR, Status.STOPPED, Status.INTERRUPTED)
REPLY = "A reply of a realistic length, with **markdown** and a list:\n\n- one\n- two\n\n" * 12
RUNS = 5
TARGET_SECONDS = 1.0


def seed(database_url: str, replies: int) -> None:
    engine = create_database(database_url)
    now = datetime.now(UTC)
    conversations = [Conversation(title=f"Conversation {i}", model=MODELS[i % 3]) for i in range(max(1, replies // 50))]
    with engine.begin() as connection:
        connection.execute(insert(Conversation), [c.model_dump() for c in conversations])
        rows = []
        for n in range(replies):
            status = STATUSES[n % len(STATUSES)]
            timed = status in (Status.COMPLETE, Status.STOPPED)
            rows.append(
                {
                    "conversation_id": conversations[n % len(conversations)].id,
                    "role": Role.ASSISTANT,
                    "content": REPLY,
                    "status": status,
                    "model": MODELS[n % 3],
                    "first_token_ms": 200 + n % 900 if timed else None,
                    "duration_ms": 3000 + n % 5000 if timed else None,
                    "output_tokens": 300 + n % 400 if timed else None,
                    "input_tokens": None,
                    "error": "Overloaded." if status == Status.ERROR else None,
                    "finish_reason": "stop",
                    "note": None,
                    "parent_id": None,
                    "created_at": now - timedelta(seconds=n * 604_800 / replies),
                    "updated_at": now,
                }
            )
            if len(rows) == 5_000:
                connection.execute(insert(Message), rows)
                rows = []
        if rows:
            connection.execute(insert(Message), rows)
    engine.dispose()


def naive_week(repository: ChatRepository) -> dict:
    """What a first version would do: every message as an object, text and all, then counted."""
    since = datetime.now(UTC) - timedelta(days=7)
    with Session(repository.engine) as session:
        messages = session.exec(select(Message)).all()
    ended: dict[str, Counter] = {}
    for message in messages:
        if message.role == Role.ASSISTANT and message.created_at.replace(tzinfo=UTC) >= since:
            ended.setdefault(message.model or "", Counter())[message.status] += 1
    return ended


def timed(work) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def page_seconds(folder: Path, database_url: str) -> float:
    with chat_app(folder, database_url=database_url) as running:
        week = f"{running.url}/stats?window=week"
        httpx.get(week, timeout=60)  # the first request also warms the app up
        return timed(lambda: httpx.get(week, timeout=60).raise_for_status())


def measure(size: int) -> tuple[int, float, float, float]:
    """(replies, this app's week, the naive week, GET /stats), in seconds."""
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'chat.db'}"
        print(f"… seeding {size:,} replies", file=sys.stderr)
        seed(database_url, size)
        repository = ChatRepository(create_database(database_url))
        ours = timed(lambda: ReplyStats(repository, ChatMetrics()).over("week"))
        naive = timed(lambda: naive_week(repository))
        repository.engine.dispose()
        print(f"… GET /stats with {size:,} replies", file=sys.stderr)
        return size, ours, naive, page_seconds(Path(folder), database_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 replies only")
    sizes = (10_000,) if parser.parse_args().quick else (10_000, 100_000)
    rows = [measure(size) for size in sizes]
    print("\n`python benchmarks/stats.py`: median of 5 runs, SQLite on this machine.\n")
    print("| stored replies | week's numbers, this app | naive (every message loaded) | ratio | GET /stats |")
    print("|---|---|---|---|---|")
    for size, ours, naive, page in rows:
        print(
            f"| {size:,} | {ours * 1000:.0f} ms | {naive * 1000:.0f} ms | {naive / ours:.1f}x | {page * 1000:.0f} ms |"
        )
    largest = rows[-1]
    met = "yes" if largest[3] <= TARGET_SECONDS else "NO"
    print(
        f"\n| target | measured | met |\n|---|---|---|\n| GET /stats ≤ 1 s with {largest[0]:,} replies | "
        f"{largest[3] * 1000:.0f} ms | {met} |"
    )


if __name__ == "__main__":
    main()
