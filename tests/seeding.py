"""Long histories written straight into a database, as months of use would leave them: for the tests and the
benchmark of opening them (benchmarks/history.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update

from app.storage.database import create_database
from app.storage.models import Conversation, Message, Role, Status

REPLY = (
    "Here is **part {n}** of the answer, with a list:\n\n- flour, water and salt\n- a little time\n\n"
    "```python\nprint({n})\n```\n"
)


def seed_history(database_url: str, messages: int = 0, conversations: int = 1, days: int = 60) -> str:
    """`conversations` conversations, last used across `days` days (the newest now); the newest holds `messages`
    messages, alternating question and markdown answer, each answering the one before. Returns its id."""
    engine = create_database(database_url, busy_timeout=5)
    now = datetime.now(UTC)
    rows = [
        Conversation(
            title=f"Conversation {i}", model="openai:gpt-4.1", updated_at=now - timedelta(days=days * i / conversations)
        )
        for i in range(conversations)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Conversation), [row.model_dump() for row in rows])
        newest = rows[0].id
        chain = []
        for n in range(messages):
            role = Role.USER if n % 2 == 0 else Role.ASSISTANT
            text = f"Question {n}: how long should dough rest?" if role == Role.USER else REPLY.format(n=n)
            chain.append(
                {
                    "id": n + 1,
                    "conversation_id": newest,
                    "parent_id": n or None,
                    "role": role,
                    "content": text,
                    "status": Status.COMPLETE,
                    "model": "openai:gpt-4.1",
                }
            )
        if chain:
            connection.execute(insert(Message), chain)
            connection.execute(update(Conversation).where(Conversation.id == newest).values(leaf_id=messages))
    engine.dispose()
    return newest
