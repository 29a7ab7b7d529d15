"""Stories of the chat service with the embedded model: context trimming is noted on the reply and kept."""

from __future__ import annotations

import asyncio

import pytest

from app.chat.service import ChatService
from app.providers.catalog import ModelCatalog, build_providers
from app.settings import Settings
from app.storage.database import create_database
from app.storage.models import Role, Status
from app.storage.repository import ChatRepository
from tests.conftest import TEST_TUNING

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
    catalog = ModelCatalog(build_providers(settings), settings.model_discovery_timeout)
    await catalog.refresh()
    catalog.warm_up()
    chat = ChatService(ChatRepository(create_database(settings.database_url)), catalog, settings)
    yield chat
    await chat.shutdown()
    catalog.close()


async def test_a_conversation_longer_than_the_context_is_answered_and_the_reply_says_what_was_left_out(
    offline_service,
):
    repository = offline_service.repository
    conversation = repository.create_conversation(LOCAL)
    for turn in range(8):
        role = Role.USER if turn % 2 == 0 else Role.ASSISTANT
        text = f"Message {turn}: " + "the history of bread and of the bakers who made it. " * 6
        repository.add_message(conversation.id, role, text, Status.COMPLETE, LOCAL)

    generation = await offline_service.send(conversation.id, "Tell me a short story about bread.", LOCAL)
    await asyncio.wait_for(generation.wait(), 30)

    reply = offline_service.messages(conversation.id)[-1]
    assert reply.status == Status.COMPLETE and reply.content
    assert reply.note is not None and "oldest messages were left out" in reply.note
    assert "context window of 256 tokens" in reply.note
