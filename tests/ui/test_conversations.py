"""Managing conversations in the drawer, and what every reply tells about itself."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from tests.fakes.provider_server import Reply
from tests.ui.helpers import assert_status, drawer_titles, eventually, replies, reply_text, send, status_of

pytestmark = pytest.mark.usefixtures("app_env")


async def chat(user: User, text: str) -> None:
    """Start a new conversation with `text` and wait for its reply."""
    await user.open("/")
    await send(user, text)
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))


def choose(user: User, title: str, option: str) -> None:
    """Pick `option` in the menu of the conversation titled `title`."""
    rows = user.find(marker="conversation").elements
    row = next(r for r in rows if title in [d.text for d in r.descendants() if isinstance(d, ui.link)])
    item = next(d for d in row.descendants() if isinstance(d, ui.menu_item) and option in d._markers)
    UserInteraction(user, {item}, option).click()


async def test_a_conversation_can_be_renamed(user: User):
    await chat(user, "A question about sourdough")

    choose(user, "A question about sourdough", "Rename")
    user.find("Title").clear().type("Bread notes")
    user.find(marker="rename-save").click()

    await eventually(lambda: drawer_titles(user) == ["Bread notes"])


async def test_a_pinned_conversation_stays_on_top(user: User):
    await chat(user, "Older chat")
    await chat(user, "Newer chat")
    assert drawer_titles(user) == ["Newer chat", "Older chat"]

    choose(user, "Older chat", "Pin")

    await eventually(lambda: drawer_titles(user) == ["Older chat", "Newer chat"])
    await chat(user, "Newest chat")
    assert drawer_titles(user) == ["Older chat", "Newest chat", "Newer chat"]


async def test_after_a_reply_the_drawer_moves_its_conversation_up_without_rebuilding_the_others(user: User):
    await chat(user, "First topic")
    await chat(user, "Second topic")
    first = next(c for c in user.find(kind=ui.link).elements if c.text == "First topic").props["href"]
    await user.open(first)
    rows_before = {row.id for row in user.find(marker="conversation").elements}

    await send(user, "A follow-up")
    await eventually(lambda: len(replies(user)) == 2 and status_of(replies(user)[-1]) == "complete")

    assert drawer_titles(user) == ["First topic", "Second topic"]
    assert {row.id for row in user.find(marker="conversation").elements} == rows_before, "moved, not rebuilt"


async def test_deleting_asks_first_and_then_removes_everything(user: User):
    await chat(user, "Keep this one")
    await chat(user, "Delete this one")

    choose(user, "Delete this one", "Delete")
    await user.should_see("Delete this conversation?")
    deletes = user.find(kind=ui.button, content="Delete").elements
    [confirm] = [b for b in deletes if b.props.get("aria-label") == "Delete"]
    UserInteraction(user, {confirm}, "Delete").click()

    await eventually(lambda: drawer_titles(user) == ["Keep this one"])
    await user.should_see("How can I help?")  # it was open, so the page moved to a new chat


async def test_search_finds_words_in_titles_and_in_replies(user: User, app_env):
    app_env["openai"].play(Reply(tokens=["Try ", "a ", "croissant."]), Reply(tokens=["Dragons ", "fly."]))
    await chat(user, "What should I eat?")
    await chat(user, "Tell me about dragons")

    user.find("Search").type("croiss")
    await eventually(lambda: drawer_titles(user) == ["What should I eat?"])

    user.find("Search").clear().type("dragons")
    await eventually(lambda: drawer_titles(user) == ["Tell me about dragons"])

    user.find("Search").clear().type("unicorns")
    await user.should_see("Nothing found.")


async def test_every_reply_shows_its_speed_and_token_counts(user: User, app_env):
    app_env["openai"].play(Reply(tokens=["One ", "two ", "three ", "four."], delay=0.02, input_tokens=12))

    await chat(user, "Count")

    footer = replies(user)[-1].descendants()
    text = " ".join(e.text for e in footer if isinstance(e, ui.label))
    assert "OpenAI · gpt-4.1 · " in text and "s to first token" in text and "tok/s" in text
    assert "12 in / 4 out" in text


async def test_after_stop_the_token_count_is_marked_as_estimated(user: User, app_env):
    app_env["openai"].play(Reply(tokens=[f"word{i} " for i in range(300)], delay=0.02))
    await user.open("/")
    await send(user, "Go on")
    await eventually(lambda: "word5" in reply_text(replies(user)[-1]))

    user.find(kind=ui.button, content="Stop").click()

    await eventually(lambda: assert_status(replies(user)[-1], "stopped"))
    text = " ".join(e.text for e in replies(user)[-1].descendants() if isinstance(e, ui.label))
    assert "? in / ~" in text


async def test_export_downloads_the_conversation_as_markdown_and_json(user: User, app_env):
    app_env["openai"].play(Reply(tokens=["Flour ", "and ", "water."]))
    await chat(user, "What is bread made of?")

    downloads = user.download.http_responses
    user.find(marker="export-this-md").click()
    user.find(marker="export-all-json").click()

    await eventually(lambda: len(downloads) == 2)
    markdown, exported = downloads[0], downloads[1].json()

    assert "## You\n\nWhat is bread made of?" in markdown.text and "Flour and water." in markdown.text
    [conversation] = exported["conversations"]
    assert [m["content"] for m in conversation["messages"]] == ["What is bread made of?", "Flour and water."]


async def test_escape_stops_the_reply(user: User, app_env):
    app_env["openai"].play(Reply(tokens=[f"word{i} " for i in range(300)], delay=0.02))
    await user.open("/")
    await send(user, "Go on")
    await eventually(lambda: "word3" in reply_text(replies(user)[-1]))

    escape = {"action": "keydown", "key": "Escape", "code": "Escape", "location": 0, "repeat": False}
    escape |= {"altKey": False, "ctrlKey": False, "metaKey": False, "shiftKey": False}
    user.find(kind=ui.keyboard).trigger("key", escape)

    await eventually(lambda: assert_status(replies(user)[-1], "stopped"))


async def test_titles_with_quotes_and_control_characters_are_shown_as_typed(user: User):
    await chat(user, 'He said "hi" <b>bold</b> \\ and NUL[\0]')

    assert drawer_titles(user) == ['He said "hi" <b>bold</b> \\ and NUL[\0]']
    choose(user, drawer_titles(user)[0], "Rename")
    user.find("Title").clear().type("It's \"quoted\" & 'single'")
    user.find(marker="rename-save").click()

    await eventually(lambda: drawer_titles(user) == ["It's \"quoted\" & 'single'"])


async def test_a_conversation_keeps_its_own_system_prompt_temperature_and_reply_length(user: User, app_env):
    await user.open("/")
    user.find(kind=ui.button, content="Settings").click()
    user.find("System prompt").type("Answer in French.")
    user.find("Temperature").type("0.3")
    user.find("Max output tokens").type("100")
    user.find(marker="settings-save").click()
    await user.should_see("Settings saved")

    await send(user, "Hello")
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    await send(user, "And again")
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))

    for sent in [r.body for r in app_env["openai"].chat_requests]:
        assert sent["messages"][0] == {"role": "system", "content": "Answer in French."}
        assert sent["temperature"] == 0.3 and sent["max_completion_tokens"] == 100


async def test_a_system_prompt_saved_as_a_preset_is_offered_in_other_conversations(user: User, app_env):
    await chat(user, "First")
    user.find(kind=ui.button, content="Settings").click()
    user.find("System prompt").type("You are a patient baker.")
    user.find("Preset name").type("Baker")
    user.find(kind=ui.button, content="Save as preset").click()
    await user.should_see("Preset “Baker” saved.")

    await user.open("/")
    user.find(kind=ui.button, content="Settings").click()
    user.find("Preset").click()
    user.find("Baker").click()
    user.find(marker="settings-save").click()
    await send(user, "How long to proof?")
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))

    sent = app_env["openai"].chat_requests[-1].body
    assert sent["messages"][0] == {"role": "system", "content": "You are a patient baker."}


async def test_dark_mode_follows_the_system_until_a_theme_is_picked_and_remembers_it(user: User):
    await user.open("/")
    [dark_mode] = user.find(kind=ui.dark_mode).elements
    assert dark_mode.value is None  # as the system says

    user.find(marker="theme-toggle").click()
    assert dark_mode.value is True

    await user.open("/")
    [dark_mode] = user.find(kind=ui.dark_mode).elements
    assert dark_mode.value is True
    user.find(marker="theme-toggle").click()
    assert dark_mode.value is False


@pytest.fixture
def titles_on(app_env, monkeypatch):
    monkeypatch.setenv("AUTO_TITLE", "true")
    return app_env


async def test_the_drawer_shows_the_title_the_model_wrote(titles_on, user: User):
    titles_on["openai"].play(Reply(tokens=["Use flour, water and salt."]), Reply(tokens=["Simple Bread Basics"]))
    await chat(user, "how do i make bread at home with nothing fancy")

    await eventually(lambda: drawer_titles(user) == ["Simple Bread Basics"])


async def test_the_drawer_marks_a_conversation_while_its_reply_is_written(user: User, app_env):
    app_env["openai"].play(Reply(tokens=["slow "] * 30, delay=0.03))
    await user.open("/")
    await send(user, "Take your time")

    def marked() -> bool:
        return any(
            "writing-dot" in element.classes and element.visible
            for row in user.find(marker="conversation").elements
            for element in row.descendants()
        )

    await eventually(marked)
    await eventually(lambda: assert_status(replies(user)[-1], "complete"))
    await eventually(lambda: not marked())
