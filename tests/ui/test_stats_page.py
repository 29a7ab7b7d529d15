"""The Stats page with a seeded database: per model, how its replies ended and how fast, in a table and charts, for
the window chosen; and what went wrong since the server started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import insert

from app.storage.database import create_database
from app.storage.models import Conversation, Message, Role, Status

pytestmark = pytest.mark.usefixtures("app_env")


@pytest.fixture
def seeded(app_env, database_url):
    """Three replies today and one four days ago, written before the app starts."""
    engine = create_database(database_url)
    conversation = Conversation(title="Seeded", model="openai:gpt-4.1")
    now = datetime.now(UTC)
    base = {"conversation_id": conversation.id, "role": Role.ASSISTANT, "content": "x", "model": "openai:gpt-4.1"}
    done = {"status": Status.COMPLETE, "first_token_ms": 300, "duration_ms": 2300, "output_tokens": 200}
    replies = [done, done, {"status": Status.ERROR}, done | {"created_at": now - timedelta(days=4)}]
    with engine.begin() as connection:
        connection.execute(insert(Conversation), [conversation.model_dump()])
        connection.execute(insert(Message), [Message(**(base | r)).model_dump(exclude={"id"}) for r in replies])
    engine.dispose()
    return app_env


def table_rows(user: User) -> list[dict]:
    return next(iter(user.find(marker="stats-table").elements)).rows


async def test_the_stats_page_shows_each_models_success_rate_and_speed_for_the_window(seeded, user: User):
    await user.open("/stats")

    [row] = table_rows(user)
    assert (row["model"], row["replies"], row["success"]) == ("openai:gpt-4.1", 3, "67%")
    assert (row["ttft50"], row["speed50"], row["error"]) == ("0.30 s", "100", 1)
    assert user.find(marker="stats-ended-chart").elements and user.find(marker="stats-ttft-chart").elements
    await user.should_see("No provider errors.")

    next(iter(user.find(marker="stats-window").elements)).set_value("week")
    await user.should_see("Last week")
    assert table_rows(user)[0]["replies"] == 4

    next(iter(user.find(marker="stats-window").elements)).set_value("hour")
    [row] = table_rows(user)
    assert row["replies"] == 3  # written just now


async def test_with_no_replies_the_page_says_so(user: User):
    await user.open("/stats")
    await user.should_see("No replies in the last day.")
    await user.should_not_see(kind=ui.table)


async def test_the_window_can_be_named_in_the_address(seeded, user: User):
    await user.open("/stats?window=week")
    assert table_rows(user)[0]["replies"] == 4


@pytest.fixture
def seeded_route(app_env, database_url):
    """Two replies of a route: one answered by its first model, one by the next after the first failed."""
    engine = create_database(database_url)
    conversation = Conversation(title="Routed", model="route:fast")
    base = {"conversation_id": conversation.id, "role": Role.ASSISTANT, "content": "x", "status": Status.COMPLETE}
    replies = [
        {"model": "anthropic:claude-haiku-4-5"},
        {"model": "openai:gpt-4o-mini", "fell_back_from": '["anthropic:claude-haiku-4-5"]'},
    ]
    with engine.begin() as connection:
        connection.execute(insert(Conversation), [conversation.model_dump()])
        connection.execute(insert(Message), [Message(**(base | r)).model_dump(exclude={"id"}) for r in replies])
    engine.dispose()
    return app_env


async def test_a_model_that_handed_replies_on_counts_them_against_its_success_rate(seeded_route, user: User):
    await user.open("/stats")

    rows = {row["model"]: row for row in table_rows(user)}
    claude, gpt = rows["anthropic:claude-haiku-4-5"], rows["openai:gpt-4o-mini"]
    assert (claude["replies"], claude["complete"], claude["fell_back"], claude["success"]) == (2, 1, 1, "50%")
    assert (gpt["replies"], gpt["complete"], gpt["fell_back"], gpt["success"]) == (1, 1, 0, "100%")
