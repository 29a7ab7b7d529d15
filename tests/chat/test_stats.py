"""The Stats page's numbers from stored replies: per model, how they ended, the success rate (a reply the person
stopped is not a failure), time to first token and tokens per second percentiles, within the window asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from app.chat.stats import ReplyStats, percentile
from app.metrics import ChatMetrics
from app.storage.database import create_database
from app.storage.models import Conversation, Message, Role, Status
from app.storage.repository import ChatRepository


def seeded(database_url: str, replies: list[dict]) -> ChatRepository:
    engine = create_database(database_url)
    conversation = Conversation(title="Seeded", model="openai:gpt-4.1")
    with engine.begin() as connection:
        connection.execute(insert(Conversation), [conversation.model_dump()])
        base = {"conversation_id": conversation.id, "role": Role.ASSISTANT, "content": "x", "model": "openai:gpt-4.1"}
        rows = [Message(**(base | reply)).model_dump(exclude={"id"}) for reply in replies]
        question = Message(conversation_id=conversation.id, role=Role.USER, content="q", status=Status.COMPLETE)
        rows.append(question.model_dump(exclude={"id"}))
        connection.execute(insert(Message), rows)
    return ChatRepository(engine)


def test_success_rate_and_percentiles_per_model_within_the_window(database_url):
    now = datetime.now(UTC)
    fast = {"status": Status.COMPLETE, "first_token_ms": 200, "duration_ms": 1200, "output_tokens": 100}
    replies = [
        *[fast | {"created_at": now - timedelta(minutes=5)} for _ in range(8)],
        {"status": Status.ERROR, "created_at": now - timedelta(minutes=5)},
        {"status": Status.STOPPED, "first_token_ms": 900, "duration_ms": 1900, "created_at": now},
        {"status": Status.INTERRUPTED, "created_at": now},
        fast | {"model": "anthropic:claude-haiku-4-5", "first_token_ms": 400, "created_at": now},
        fast | {"created_at": now - timedelta(days=3)},  # outside the last day
    ]
    reply_stats = ReplyStats(seeded(database_url, replies), ChatMetrics())
    stats = reply_stats.over("day")

    openai, anthropic = stats.models
    assert (openai.model, openai.replies, anthropic.model) == ("openai:gpt-4.1", 11, "anthropic:claude-haiku-4-5")
    assert openai.success_rate == 8 / 10  # the stopped one is left out: the person stopped it
    assert openai.first_token(0.5) == 200 and openai.first_token(0.95) == 900
    assert openai.speed(0.5) == 100.0  # 100 tokens in the second after the first one
    assert reply_stats.over("week").models[0].replies == 12  # the one from three days ago too


def test_nothing_in_the_window_is_no_models():
    assert percentile([], 0.5) is None and percentile([1, 2, 3, 4], 0.5) == 2 and percentile([5], 0.95) == 5
