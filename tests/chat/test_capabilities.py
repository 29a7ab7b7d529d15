"""A model is sent only what it declares it takes: a temperature it cannot take is refused before anything is
stored, one it takes none of is left out (and the settings dialog says so); waiting for a model is not silence."""

from __future__ import annotations

import pytest

from app.chat.conversations import ConversationOptions
from app.chat.refusals import InputRefused
from app.providers.base import Capabilities, Finish, Loading, Queued, TextDelta
from tests.waiting import finished

SCRIPTED = "scripted:model"


async def test_a_model_that_takes_no_temperature_is_sent_none_and_the_conversation_keeps_its_own(scripted_service):
    service, provider = await scripted_service(Capabilities(temperature=None))

    generation = await finished(
        service.replies.send(None, "Hello", SCRIPTED, options=ConversationOptions(temperature=0.7))
    )

    assert provider.requests[-1].temperature is None
    assert service.conversations.options(generation.conversation_id).temperature == 0.7


async def test_a_model_that_takes_no_system_prompt_is_sent_none(scripted_service):
    service, provider = await scripted_service(Capabilities(system_prompt=False))

    await finished(service.replies.send(None, "Hello", SCRIPTED, system="Be brief."))

    assert provider.requests[-1].system is None


async def test_a_temperature_beyond_what_the_model_takes_is_refused_before_anything_is_stored(scripted_service):
    service, provider = await scripted_service(Capabilities(temperature=(0.0, 1.0)))

    with pytest.raises(InputRefused, match=r"takes a temperature from 0 to 1; this conversation's is 1\.5"):
        await service.replies.send(None, "Hello", SCRIPTED, options=ConversationOptions(temperature=1.5))

    assert service.conversations.list() == [] and provider.requests == []


async def test_a_temperature_the_model_takes_is_sent(scripted_service):
    service, provider = await scripted_service(Capabilities(temperature=(0.0, 1.0)))

    await finished(service.replies.send(None, "Hello", SCRIPTED, options=ConversationOptions(temperature=0.4)))

    assert provider.requests[-1].temperature == 0.4


async def test_waiting_in_line_and_loading_are_notices_not_silence(scripted_service):
    service, provider = await scripted_service(first_token_timeout=0.2)
    provider.script(Queued(1), 0.3, Loading(), 0.3, TextDelta("Here."), Finish("stop"))
    notices = []

    generation = await service.replies.send(None, "Hello", SCRIPTED)
    generation.subscribe(lambda g: notices.append(g.notice))
    await finished(generation)

    assert generation.text == "Here." and generation.error is None
    assert notices[:2] == [
        "Queued: this model writes one reply at a time; 1 reply ahead of this one.",
        "Loading the model…",
    ]
