"""Stories of the chat service with the embedded model: context trimming is noted on the reply and kept."""

from __future__ import annotations

import asyncio

import pytest

from app.chat.refusals import InputRefused
from app.settings import Settings
from app.storage.models import Role, Status
from tests.conftest import TEST_TUNING, start_service

LOCAL = "local:SmolLM2-135M-Instruct"


@pytest.fixture
async def offline_service(database_url):
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        ollama_base_url="",
        local_context_tokens=256,
        max_output_tokens=24,
        **TEST_TUNING,
    )
    chat = await start_service(settings)
    chat.conversations.models.warm_up()
    yield chat
    await chat.shutdown()
    await chat.conversations.models.close()


async def test_a_conversation_longer_than_the_context_is_answered_and_the_reply_says_what_was_left_out(
    offline_service,
):
    repository = offline_service.conversations.repository
    conversation = repository.create_conversation(LOCAL)
    for turn in range(8):
        role = Role.USER if turn % 2 == 0 else Role.ASSISTANT
        text = f"Message {turn}: " + "the history of bread and of the bakers who made it. " * 6
        repository.add_message(conversation.id, role, text, Status.COMPLETE, LOCAL)

    generation = await offline_service.replies.send(conversation.id, "Tell me a short story about bread.", LOCAL)
    await asyncio.wait_for(generation.wait(), 30)

    reply = offline_service.conversations.messages(conversation.id)[-1]
    assert reply.status == Status.COMPLETE and reply.content
    assert reply.note is not None and "oldest messages were left out" in reply.note
    assert "context window of 256 tokens" in reply.note


async def test_the_embedded_model_does_not_write_titles_the_first_words_of_the_message_stay(offline_service):
    offline_service.replies.settings.auto_title = True

    generation = await offline_service.replies.send(None, "How do I keep a sourdough starter alive?", LOCAL)
    await asyncio.wait_for(generation.wait(), 30)
    await asyncio.sleep(0.5)  # where a title request would have ended

    title = offline_service.conversations.get(generation.conversation_id).title
    assert title == "How do I keep a sourdough starter alive?"
    assert offline_service.conversations.models.find(LOCAL).label.endswith("(offline, small)")


async def test_with_no_model_at_all_sending_says_how_to_connect_one(database_url):
    nothing = {f"{name}_api_key": None for name in ("openai", "anthropic", "together", "openai_compat")}
    settings = Settings(
        _env_file=None, database_url=database_url, ollama_base_url="", local_model_enabled=False, **nothing
    )
    chat = await start_service(settings)

    with pytest.raises(InputRefused, match="No model is connected yet: open Connections"):
        await chat.replies.send(None, "Anyone?", None)

    assert chat.conversations.list() == []
    await chat.shutdown()
