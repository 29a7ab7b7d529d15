"""Stories of the chat service: a reply is owned by the server, saved as it grows, and ends in a known state."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import event

from app.chat.branches import Version
from app.chat.refusals import InputRefused
from app.storage.models import Role, Status
from tests.fakes.provider_server import HttpError, Reply
from tests.waiting import eventually, finished

OPENAI = "openai:gpt-4o-mini"
ANTHROPIC = "anthropic:claude-haiku-4-5"


def reply_row(service, conversation_id):
    return [m for m in service.conversations.messages(conversation_id) if m.role == Role.ASSISTANT][-1]


async def test_a_reply_streams_and_is_saved_complete_with_its_usage(service, fakes):
    fakes["openai"].play(Reply(tokens=["The ", "answer ", "is ", "42."], input_tokens=9))

    generation = await finished(service.replies.send(None, "What is the answer?", OPENAI))

    row = reply_row(service, generation.conversation_id)
    assert (row.content, row.status, row.finish_reason) == ("The answer is 42.", Status.COMPLETE, "stop")
    assert (row.input_tokens, row.output_tokens) == (9, 4)
    assert service.conversations.get(generation.conversation_id).title == "What is the answer?"


async def test_the_reply_row_exists_before_the_provider_answers(service, fakes):
    fakes["openai"].play(Reply(tokens=["slow"], delay=0.5))

    generation = await service.replies.send(None, "Hello", OPENAI)

    row = reply_row(service, generation.conversation_id)
    assert row.status == Status.STREAMING and row.content == ""
    await finished(generation)


async def test_a_follow_up_sends_the_whole_conversation(service, fakes):
    fakes["anthropic"].play(Reply(tokens=["Paris."]), Reply(tokens=["About 2 million."]))
    first = await finished(service.replies.send(None, "Capital of France?", ANTHROPIC))

    await finished(service.replies.send(first.conversation_id, "Population?", ANTHROPIC))

    sent = fakes["anthropic"].chat_requests[-1].body["messages"]
    assert sent == [
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Population?"},
    ]


async def test_stop_hangs_up_within_a_second_and_keeps_the_partial_text(service, fakes):
    fakes["openai"].play(Reply(tokens=[f"word{i} " for i in range(500)], delay=0.02))
    generation = await service.replies.send(None, "Write a lot", OPENAI)
    await eventually(lambda: len(generation.text) > 30)

    stopped_at = time.monotonic()
    service.replies.stop(generation.conversation_id)
    await finished(generation)

    assert await asyncio.to_thread(fakes["openai"].hung_up.wait, 2.0)
    assert fakes["openai"].hangups[0] - stopped_at < 1.0
    row = reply_row(service, generation.conversation_id)
    assert row.status == Status.STOPPED
    assert row.content == generation.text and row.content.startswith("word0 word1 ")
    assert service.replies.active(generation.conversation_id) is None


async def test_text_is_stored_before_anyone_is_shown_it_in_commits_shared_by_many_tokens(service, fakes):
    commits = []
    event.listen(service.conversations.repository.engine, "commit", lambda _connection: commits.append(1))
    fakes["openai"].play(Reply(tokens=[f"w{i} " for i in range(400)]))
    generation = await service.replies.send(None, "Go", OPENAI)
    shown_before_stored = []

    def on_change(changed):
        stored = service.conversations.repository.reply_text(changed.message_id)
        if not stored.startswith(changed.text):
            shown_before_stored.append((len(changed.text), len(stored)))

    generation.subscribe(on_change)
    await finished(generation)

    assert not shown_before_stored, "a listener was shown text that was not stored yet"
    assert reply_row(service, generation.conversation_id).content == "".join(f"w{i} " for i in range(400))
    assert len(commits) < 100, f"{len(commits)} commits for 400 tokens"


async def test_an_error_mid_stream_keeps_the_text_and_is_not_retried(service, fakes):
    fakes["anthropic"].play(Reply(tokens=["Half ", "an ", "answer"], fail_after=2))

    generation = await finished(service.replies.send(None, "Hi", ANTHROPIC))

    row = reply_row(service, generation.conversation_id)
    assert row.status == Status.ERROR and row.content == "Half an "
    assert "overloaded" in row.error.lower()
    assert len(fakes["anthropic"].chat_requests) == 1, "a retry after the first token would rewrite what was read"


async def test_a_rate_limit_before_the_first_token_waits_for_retry_after_then_succeeds(service, fakes):
    fakes["openai"].play(HttpError(429, "Rate limit reached", "rate_limit_error", {"retry-after": "0.6"}), Reply())
    notices = []
    started = time.monotonic()

    generation = await service.replies.send(None, "Hi", OPENAI)
    generation.subscribe(lambda g: notices.append(g.notice) if g.notice else None)
    await finished(generation)

    assert time.monotonic() - started >= 0.6
    assert reply_row(service, generation.conversation_id).status == Status.COMPLETE
    assert generation.text == "Hello, world!"
    assert any("Rate limit" in notice and "Retrying" in notice for notice in notices)


async def test_transient_failures_are_retried_with_backoff_up_to_a_limit(service, fakes, settings):
    fakes["together"].play(*[HttpError(503, "Service unavailable", "server_error")] * 10)

    generation = await finished(service.replies.send(None, "Hi", "together:Qwen/Qwen2.5-72B-Instruct-Turbo"))

    assert len(fakes["together"].chat_requests) == settings.retry_attempts + 1
    row = reply_row(service, generation.conversation_id)
    assert row.status == Status.ERROR and "Service unavailable" in row.error


async def test_a_dropped_connection_before_the_first_token_is_retried(service, fakes):
    fakes["openai"].play(Reply(drop_after=0), Reply(tokens=["Back."]))

    generation = await finished(service.replies.send(None, "Hi", OPENAI))

    assert generation.text == "Back." and generation.status == Status.COMPLETE


@pytest.mark.parametrize(
    "error",
    [
        HttpError(401, "Bad key", "authentication_error"),
        HttpError(400, "Prompt too long", "invalid_request_error"),
        HttpError(429, "Busy", "rate_limit_error", {"retry-after": "3600"}),
    ],
)
async def test_errors_that_waiting_cannot_fix_are_shown_at_once(service, fakes, error):
    fakes["openai"].play(error, Reply())

    generation = await finished(service.replies.send(None, "Hi", OPENAI))

    assert len(fakes["openai"].chat_requests) == 1
    assert generation.status == Status.ERROR and error.message in generation.error


async def test_retry_asks_again_without_the_failed_attempt_in_the_context(service, fakes):
    broken = Reply(tokens=["Broken ", "off"], fail_after=1, error_type="server_error")
    fakes["openai"].play(broken, Reply(tokens=["Fine."]))
    failed = await finished(service.replies.send(None, "Question", OPENAI))

    retried = await finished(service.replies.retry(failed.conversation_id, OPENAI))

    assert retried.text == "Fine."
    assert fakes["openai"].chat_requests[-1].body["messages"] == [{"role": "user", "content": "Question"}]
    shown = service.conversations.messages(failed.conversation_id)
    assert [(m.role, m.status) for m in shown] == [(Role.USER, Status.COMPLETE), (Role.ASSISTANT, Status.COMPLETE)]
    assert service.conversations.versions(failed.conversation_id)[shown[-1].id] == Version(2, 2)
    await service.conversations.switch(failed.conversation_id, shown[-1].id, -1)
    assert service.conversations.messages(failed.conversation_id)[-1].content == "Broken ", (
        "the failed attempt stays reachable"
    )


async def test_a_reply_goes_on_when_its_page_stops_listening_mid_reply(service, fakes):
    fakes["openai"].play(Reply(tokens=["a", "b", "c", "d"], delay=0.1))
    generation = await service.replies.send(None, "Hi", OPENAI)
    heard: list[str] = []
    unsubscribe = generation.subscribe(lambda g: heard.append(g.text))
    await eventually(lambda: generation.text)  # the page has seen the first token

    unsubscribe()  # and closes, with the reply half written
    heard_before_leaving = list(heard)
    await finished(generation)

    assert heard == heard_before_leaving, "nothing reaches a page that stopped listening"
    assert generation.status == Status.COMPLETE and generation.text == "abcd"
    assert reply_row(service, generation.conversation_id).content == "abcd"


async def test_a_second_send_while_a_reply_streams_is_refused_so_replies_never_interleave(service, fakes):
    fakes["openai"].play(Reply(tokens=list("abcdef"), delay=0.05))
    generation = await service.replies.send(None, "First", OPENAI)

    with pytest.raises(InputRefused, match="still being written"):
        await service.replies.send(generation.conversation_id, "Second", OPENAI)
    await finished(generation)

    assert [m.content for m in service.conversations.messages(generation.conversation_id)] == ["First", "abcdef"]


@pytest.mark.parametrize("text", ["", "   \n\t "])
async def test_an_empty_message_is_not_sent(service, fakes, text):
    with pytest.raises(InputRefused):
        await service.replies.send(None, text, OPENAI)

    assert service.conversations.list() == [] and fakes["openai"].chat_requests == []


async def test_a_one_megabyte_message_is_stored_whole(service, fakes):
    text = ("A long line of text. " * 50_000)[:1_000_000]

    generation = await finished(service.replies.send(None, text, OPENAI))

    assert service.conversations.messages(generation.conversation_id)[0].content == text
    assert fakes["openai"].chat_requests[0].body["messages"][0]["content"] == text


async def test_a_message_over_the_limit_is_refused_with_a_clear_message(service, settings):
    with pytest.raises(InputRefused, match="the limit is"):
        await service.replies.send(None, "x" * (settings.max_message_chars + 1), OPENAI)


async def test_strange_text_is_stored_without_loss(service, fakes):
    text = "NUL\x00 · RTL مرحبا بالعالم · bidi \u202eevil\u202c · zero\u200bwidth · ANSI \x1b[31mred · emoji 👩‍💻"

    generation = await finished(service.replies.send(None, text, OPENAI))

    assert service.conversations.messages(generation.conversation_id)[0].content == text


async def test_a_lone_surrogate_becomes_a_visible_replacement_character(service, fakes):
    generation = await finished(service.replies.send(None, "broken \ud800 half", OPENAI))

    assert service.conversations.messages(generation.conversation_id)[0].content == "broken \ufffd half"


async def test_shutdown_marks_replies_in_flight_interrupted_and_saves_their_text(service, fakes):
    fakes["openai"].play(Reply(tokens=[f"t{i} " for i in range(100)], delay=0.02))
    generation = await service.replies.send(None, "Hi", OPENAI)
    await eventually(lambda: len(generation.text) > 10)

    await service.shutdown()

    row = reply_row(service, generation.conversation_id)
    assert row.status == Status.INTERRUPTED and row.content == generation.text


async def test_an_unknown_model_is_refused(service):
    with pytest.raises(InputRefused, match="not available"):
        await service.replies.send(None, "Hi", "nobody:nothing")


async def test_the_first_exchange_gets_a_title_written_by_its_model(service, fakes):
    service.replies.settings.auto_title = True
    fakes["openai"].play(Reply(tokens=["Flour, water, salt and yeast."]), Reply(tokens=['"Bread ', 'Ingredients."']))
    changed: list[str] = []
    service.conversations.changes.add(changed.append)

    generation = await finished(service.replies.send(None, "What is bread made of, and how do I start?", OPENAI))
    await eventually(lambda: service.conversations.get(generation.conversation_id).title == "Bread Ingredients")

    assert generation.conversation_id in changed, "the pages were told"
    title_request = fakes["openai"].chat_requests[-1].body["messages"][0]["content"]
    assert "What is bread made of" in title_request and "Flour, water, salt and yeast." in title_request


async def test_a_failed_title_request_keeps_the_first_words(service, fakes):
    service.replies.settings.auto_title = True
    fakes["openai"].play(Reply(tokens=["Answer."]), HttpError(500, "No titles today"))

    generation = await finished(service.replies.send(None, "A question about sourdough starters", OPENAI))
    await eventually(lambda: len(fakes["openai"].chat_requests) == 2)
    await asyncio.sleep(0.1)

    assert service.conversations.get(generation.conversation_id).title == "A question about sourdough starters"


async def test_an_edited_question_starts_a_new_branch_and_both_stay_reachable(service, fakes):
    fakes["openai"].play(Reply(tokens=["Paris."]), Reply(tokens=["Rome."]), Reply(tokens=["Madrid."]))
    first = await finished(service.replies.send(None, "Capital of France?", OPENAI))
    conversation_id = first.conversation_id
    question = service.conversations.messages(conversation_id)[0]

    edited = await finished(service.replies.edit(conversation_id, question.id, "Capital of Italy?", OPENAI))
    await finished(service.replies.send(conversation_id, "And Spain?", OPENAI))

    assert edited.branched and fakes["openai"].chat_requests[1].body["messages"] == [
        {"role": "user", "content": "Capital of Italy?"}
    ]
    assert [m.content for m in service.conversations.messages(conversation_id)] == [
        "Capital of Italy?",
        "Rome.",
        "And Spain?",
        "Madrid.",
    ]
    assert service.conversations.versions(conversation_id)[
        service.conversations.messages(conversation_id)[0].id
    ] == Version(2, 2)

    await service.conversations.switch(conversation_id, service.conversations.messages(conversation_id)[0].id, -1)
    assert [m.content for m in service.conversations.messages(conversation_id)] == ["Capital of France?", "Paris."]
    await service.conversations.switch(conversation_id, service.conversations.messages(conversation_id)[0].id, +1)
    assert [m.content for m in service.conversations.messages(conversation_id)][-1] == "Madrid.", (
        "the newest line of that version"
    )


async def test_a_reply_can_be_regenerated_and_the_context_is_the_branch_shown(service, fakes):
    fakes["anthropic"].play(Reply(tokens=["One."]), Reply(tokens=["Two."]), Reply(tokens=["Three."]))
    first = await finished(service.replies.send(None, "Say a number", ANTHROPIC))

    await finished(service.replies.retry(first.conversation_id, ANTHROPIC))
    await finished(service.replies.send(first.conversation_id, "Another", ANTHROPIC))

    sent = fakes["anthropic"].chat_requests[-1].body["messages"]
    assert [m["content"] if isinstance(m["content"], str) else m["content"][0]["text"] for m in sent] == [
        "Say a number",
        "Two.",
        "Another",
    ]
