"""Makes the database files of every released schema, with the code of the release that made them.

    python tests/storage/old_databases/make.py

Each file holds one conversation of two exchanges (the second reply stopped), written through that release's own
`create_database` and `ChatRepository`: what a person who ran that release has on disk. test_migrations.py opens
every one with today's code. Run again only to add a release whose schema changed (add its commit below).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
# The commits that landed a change to app/storage/models.py, oldest first.
RELEASES = ["9e277a7", "8e213b8", "ef6ca36", "7273a22", "b11a01e", "f52d202", "22498d2", "5968a49", "9d0198a"]

WRITE = """
import sys
from app.storage.database import create_database
from app.storage.models import Role, Status
from app.storage.repository import ChatRepository

repository = ChatRepository(create_database("sqlite:///" + sys.argv[1]))
conversation = repository.create_conversation("openai:gpt-4o-mini")
for question, answer, status in [
    ("What is a café?", "A place that serves coffee.", Status.COMPLETE),
    ("And a bistro?", "A small restaurant", Status.STOPPED),
]:
    repository.add_message(conversation.id, Role.USER, question, Status.COMPLETE, "openai:gpt-4o-mini")
    reply = repository.add_message(conversation.id, Role.ASSISTANT, "", Status.STREAMING, "openai:gpt-4o-mini")
    repository.save_reply(reply.id, content=answer, status=status)
"""


def make(commit: str) -> Path:
    target = HERE / f"{commit}.db"
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as checkout:
        archive = subprocess.run(["git", "archive", commit, "app"], cwd=ROOT, capture_output=True, check=True)
        with tarfile.open(fileobj=BytesIO(archive.stdout)) as files:
            files.extractall(checkout, filter="data")
        subprocess.run([sys.executable, "-c", WRITE, str(target)], cwd=checkout, check=True)
    for leftover in HERE.glob(f"{commit}.db-*"):  # SQLite's WAL files: the checkpoint is in the file already
        leftover.unlink()
    return target


if __name__ == "__main__":
    for release in RELEASES:
        print(make(release))
