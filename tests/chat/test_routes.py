"""Routes: one choice in the Model selector that is several models across providers. A model that fails before its
first token hands the reply to the next one, and the reply says so; after the first token nothing switches on its
own, but the person can continue the reply with the next model."""

from __future__ import annotations

import pytest

from app.chat.conversations import ConversationOptions
from app.chat.refusals import InputRefused
from app.chat.replies import CONTINUE_PROMPT
from app.providers.base import Capabilities, ErrorKind, Finish, ProviderError, TextDelta, Usage
from app.storage.models import Status
from tests.chat.test_tool_loop import calls
from tests.conftest import start_service
from tests.scripted_provider import ScriptedProvider


def overloaded(provider: str) -> ProviderError:
    return ProviderError(ErrorKind.OVERLOADED, provider, "Overloaded", status_code=529, transient=True)


def answer(*tokens: str) -> tuple:
    return (*(TextDelta(token) for token in tokens), Usage(5, len(tokens)), Finish("stop"))


@pytest.fixture
async def routed(settings):
    """A service with three providers, and routes over them: `fast` (Alpha → Beta → Gamma) from the environment."""
    started = []

    async def make(routes: str = "fast=alpha:model,beta:model,gamma:model", capabilities=None, **changes):
        capabilities = capabilities or {}
        providers = {
            name: ScriptedProvider(capabilities.get(name, Capabilities()), provider_id=name, label=name.title())
            for name in ("alpha", "beta", "gamma")
        }
        tuned = settings.model_copy(update={"model_routes": routes, "retry_attempts": 1, **changes})
        started.append(await start_service(tuned, list(providers.values())))
        return started[-1], providers

    yield make
    for service in started:
        await service.shutdown()


def metric(service, name: str, **labels: str) -> float:
    return service.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_a_route_is_offered_as_one_choice_and_answers_with_its_first_model(routed):
    service, providers = await routed()
    choices = service.conversations.models.choices()
    assert choices["route:fast"] == "Route · fast"
    assert next(iter(choices)) == "route:fast"  # routes come first, then every model

    generation = await service.replies.send(None, "Hi", "route:fast")
    await generation.wait()

    assert generation.status == Status.COMPLETE and generation.model.key == "alpha:model"
    assert not providers["beta"].requests
    assert service.conversations.get(generation.conversation_id).model == "route:fast"  # stays chosen
    reply = service.conversations.messages(generation.conversation_id)[-1]
    assert reply.model == "alpha:model" and reply.note is None


async def test_a_model_that_fails_before_its_first_token_hands_the_reply_to_the_next(routed):
    service, providers = await routed()
    providers["alpha"].script(overloaded("Alpha"))
    providers["alpha"].script(overloaded("Alpha"))  # its own retry fails too
    providers["beta"].script(*answer("Hello", " from Beta"))

    generation = await service.replies.send(None, "Hi", "route:fast")
    await generation.wait()

    assert generation.status == Status.COMPLETE
    assert len(providers["alpha"].requests) == 2  # its own retry first
    assert providers["beta"].requests[0].turns[-1].content == "Hi"
    reply = service.conversations.messages(generation.conversation_id)[-1]
    assert reply.content == "Hello from Beta"
    assert reply.model == "beta:model"  # the footer names the model that answered
    assert reply.note == "Alpha overloaded; answered by Beta · model."
    assert reply.fell_back_from == '["alpha:model"]'  # for the Stats page
    assert service.conversations.get(generation.conversation_id).model == "route:fast"
    assert metric(service, "chat_fallbacks_total", from_provider="alpha", to_provider="beta") == 1
    assert metric(service, "chat_replies_ended_total", provider="alpha", model="model", status="fell_back") == 1
    assert metric(service, "chat_replies_ended_total", provider="beta", model="model", status="complete") == 1
    assert metric(service, "chat_provider_errors_total", provider="alpha", kind="OVERLOADED", status="529") == 2


async def test_the_models_are_tried_in_order_and_the_note_tells_each_one_that_failed(routed):
    service, providers = await routed(retry_attempts=0)
    providers["alpha"].script(overloaded("Alpha"))
    providers["beta"].script(ProviderError(ErrorKind.AUTH, "Beta", "Invalid key", status_code=401))
    providers["gamma"].script(*answer("Gamma here"))

    generation = await service.replies.send(None, "Hi", "route:fast")
    await generation.wait()

    reply = service.conversations.messages(generation.conversation_id)[-1]
    assert (reply.status, reply.model, reply.content) == (Status.COMPLETE, "gamma:model", "Gamma here")
    assert reply.note == "Alpha overloaded, Beta refused the API key; answered by Gamma · model."


async def test_switch_at_once_moves_on_a_server_error_without_waiting_for_retries(routed):
    service, providers = await routed(route_switch_at_once=True, retry_attempts=3)
    providers["alpha"].script(overloaded("Alpha"))

    generation = await service.replies.send(None, "Hi", "route:fast")
    await generation.wait()

    assert len(providers["alpha"].requests) == 1
    assert generation.model.key == "beta:model" and generation.status == Status.COMPLETE


async def test_switch_at_once_still_waits_out_a_rate_limit_on_the_same_model(routed):
    service, providers = await routed(route_switch_at_once=True, retry_attempts=1)
    providers["alpha"].script(
        ProviderError(ErrorKind.RATE_LIMIT, "Alpha", "Slow down", 429, retry_after=0.01, transient=True)
    )

    generation = await service.replies.send(None, "Hi", "route:fast")
    await generation.wait()

    assert len(providers["alpha"].requests) == 2
    assert generation.model.key == "alpha:model"


async def test_a_request_the_model_refuses_is_not_sent_to_the_next(routed):
    service, providers = await routed()
    providers["alpha"].script(ProviderError(ErrorKind.BAD_REQUEST, "Alpha", "Bad image", status_code=400))

    generation = await service.replies.send(None, "Hi", "route:fast")
    await generation.wait()

    assert generation.status == Status.ERROR and not providers["beta"].requests


async def test_when_every_model_fails_the_reply_says_so(routed):
    service, providers = await routed("pair=alpha:model,beta:model", retry_attempts=0)
    providers["alpha"].script(overloaded("Alpha"))
    providers["beta"].script(overloaded("Beta"))

    generation = await service.replies.send(None, "Hi", "route:pair")
    await generation.wait()

    reply = service.conversations.messages(generation.conversation_id)[-1]
    assert reply.status == Status.ERROR and reply.error.startswith("Beta: the service is overloaded")
    assert reply.note == "Alpha overloaded; Beta · model failed too."


async def test_after_the_first_token_nothing_switches_but_the_next_model_can_continue(routed):
    service, providers = await routed()
    failure = ProviderError(ErrorKind.UPSTREAM, "Alpha", "Stream broke", transient=True)
    providers["alpha"].script(TextDelta("The answer"), TextDelta(" is"), failure)
    providers["beta"].script(*answer(" forty-two."))

    failed = await service.replies.send(None, "What is it?", "route:fast")
    await failed.wait()

    conversation_id = failed.conversation_id
    assert failed.status == Status.ERROR and failed.text == "The answer is"
    assert not providers["beta"].requests  # no silent switch: the person decides
    stored = service.conversations.messages(conversation_id)[-1]
    beta = service.replies.next_model(conversation_id, stored.status, stored.content, stored.model)
    assert beta is not None and beta.key == "beta:model"

    continued = await service.replies.continue_with(conversation_id, stored.id)
    await continued.wait()

    request = providers["beta"].requests[0]
    assert [(turn.role, turn.content) for turn in request.turns] == [
        ("user", "What is it?"),
        ("assistant", "The answer is"),
        ("user", CONTINUE_PROMPT),
    ]
    reply = service.conversations.messages(conversation_id)[-1]
    assert (reply.status, reply.content, reply.model) == (Status.COMPLETE, "The answer is forty-two.", "beta:model")
    assert reply.note == "Continued by Beta · model where Alpha · model failed."
    assert reply.parent_id == stored.parent_id  # a new version beside the failed one, which stays reachable
    window = service.conversations.history(conversation_id)
    assert window.versions[reply.id].count == 2
    assert metric(service, "chat_fallbacks_total", from_provider="alpha", to_provider="beta") == 1


async def test_a_reply_that_did_not_fail_or_has_no_next_model_cannot_be_continued(routed):
    service, providers = await routed("pair=alpha:model,beta:model")
    done = await service.replies.send(None, "Hi", "route:pair")
    await done.wait()
    with pytest.raises(InputRefused):
        await service.replies.continue_with(done.conversation_id, done.message_id)

    providers["beta"].script(TextDelta("Half"), ProviderError(ErrorKind.UPSTREAM, "Beta", "Broke", transient=True))
    alone = await service.replies.send(None, "Hi", "beta:model")  # one model, no route: nothing comes next
    await alone.wait()
    assert alone.status == Status.ERROR
    assert service.replies.next_model(alone.conversation_id, alone.status, alone.text, alone.model.key) is None


async def test_models_that_are_not_offered_are_left_out_of_the_route(routed):
    service, providers = await routed("gaps=nowhere:model,alpha:model,gone:x,beta:model", retry_attempts=0)
    lineup = service.conversations.models.lineup("route:gaps")
    assert [model.key for model in lineup.models] == ["alpha:model", "beta:model"]

    providers["alpha"].script(overloaded("Alpha"))
    generation = await service.replies.send(None, "Hi", "route:gaps")
    await generation.wait()
    assert generation.model.key == "beta:model"


async def test_a_route_with_none_of_its_models_offered_is_not_chosen_and_says_why(routed):
    service, _ = await routed("elsewhere=nowhere:model")
    assert "route:elsewhere" not in service.conversations.models.choices()
    with pytest.raises(InputRefused, match="None of the models of the route 'elsewhere'"):
        await service.replies.send(None, "Hi", "route:elsewhere")


async def test_each_model_gets_the_request_it_takes(routed):
    narrow = Capabilities(temperature=(0.0, 1.0), system_prompt=False)
    service, providers = await routed(capabilities={"beta": narrow}, retry_attempts=0)
    providers["alpha"].script(overloaded("Alpha"))
    options = ConversationOptions(system_prompt="Be brief.", temperature=1.5)

    generation = await service.replies.send(None, "Hi", "route:fast", options=options)
    await generation.wait()

    first, second = providers["alpha"].requests[0], providers["beta"].requests[0]
    assert (first.system, first.temperature) == ("Be brief.", 1.5)
    assert (second.system, second.temperature) == (None, 1.0)  # within what Beta takes


async def test_the_api_takes_a_route_by_name(routed):
    service, providers = await routed(retry_attempts=0)
    providers["alpha"].script(overloaded("Alpha"))
    lineup = service.conversations.model_for(None, "fast")
    assert lineup is not None and lineup.key == "route:fast"


async def test_routes_made_in_the_app_are_kept_and_offered(routed, settings):
    service, _ = await routed()
    await service.routes.keep("cheap", ["gamma:model", "alpha:model"], switch_at_once=True)
    assert service.conversations.models.choices()["route:cheap"] == "Route · cheap"

    again, _ = await routed()  # a restart: the same database
    kept = {route.name: route for route in again.routes.all()}
    assert kept["cheap"].models == ("gamma:model", "alpha:model") and kept["cheap"].switch_at_once
    assert kept["fast"].from_environment

    await again.routes.keep("cheap", ["beta:model"], switch_at_once=False)  # changed in place
    assert [route.models for route in again.routes.all() if route.name == "cheap"] == [("beta:model",)]
    await again.routes.remove("cheap")
    assert "route:cheap" not in again.conversations.models.choices()


@pytest.mark.parametrize(
    ("name", "models", "problem"),
    [
        ("fast", ["alpha:model"], "set by MODEL_ROUTES"),
        ("has space", ["alpha:model"], "letters, digits"),
        ("empty", [], "names no model"),
        ("twice", ["alpha:model", "alpha:model"], "names a model twice"),
        ("bare", ["gpt-4o"], "is not a model's key"),
    ],
)
async def test_a_route_that_cannot_be_kept_says_why(routed, name, models, problem):
    service, _ = await routed()
    with pytest.raises(InputRefused, match=problem):
        await service.routes.keep(name, models, switch_at_once=False)
    with pytest.raises(InputRefused):
        await service.routes.remove("fast")


async def test_a_continued_reply_keeps_the_tool_calls_made_before_the_failure(routed):
    calls_tools = Capabilities(streams_tool_calls=True)
    service, providers = await routed(
        capabilities={"alpha": calls_tools, "beta": calls_tools}, builtin_tools=["calculator"]
    )
    providers["alpha"].script(*calls(("c1", "calculator", {"expression": "6 * 7"})))
    providers["alpha"].script(TextDelta("So the answer"), ProviderError(ErrorKind.UPSTREAM, "Alpha", "Broke"))
    providers["beta"].script(*answer(" is 42."))

    failed = await service.replies.send(None, "What is 6 times 7?", "route:fast")
    await failed.wait()
    continued = await service.replies.continue_with(failed.conversation_id, failed.message_id)
    await continued.wait()

    said = providers["beta"].requests[0].turns
    assert [turn.role for turn in said] == ["user", "assistant", "tool", "assistant", "user"]
    assert said[1].tool_calls[0].name == "calculator" and said[2].tool_results[0].content == "42"
    assert said[3].content == "So the answer"
    reply = service.conversations.messages_with_steps(failed.conversation_id)[-1]
    assert reply.content == "Let me look. So the answer is 42."
    assert [(step.name, step.status, step.round) for step in reply.tool_steps] == [("calculator", "complete", 0)]
    assert metric(service, "chat_tool_calls_total", status="complete") == 1  # made once, not again when continued
