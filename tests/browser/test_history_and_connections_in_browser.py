"""A long history in a real browser (it opens on its newest messages and older ones arrive as the person scrolls
up), and connecting a provider from the Connections page, with screenshots of both."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.app_process import chat_app, fake_providers
from tests.browser.conftest import screenshot
from tests.browser.test_chat_in_browser import TIMEOUT, last_reply, send
from tests.fakes.provider_server import Reply
from tests.seeding import seed_history


def test_a_conversation_of_5000_messages_opens_on_its_newest_and_scrolling_up_brings_older_ones(page: Page, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'chat.db'}"
    conversation = seed_history(database_url, messages=5000)
    with chat_app(tmp_path, database_url=database_url) as app:
        page.goto(f"{app.url}/c/{conversation}")

        expect(last_reply(page)).to_contain_text("part 4999", timeout=TIMEOUT)
        expect(last_reply(page).locator(".msg-footer")).to_be_in_viewport()
        assert page.locator(".msg").count() == 20
        screenshot(page, "history-5000-newest")
        page.mouse.move(700, 400)  # over the messages, not the drawer

        flick_up(page, 8)  # a person scrolling up, a flick of the wheel at a time

        expect(page.get_by_text("Question 4900: how long should dough rest?")).to_be_attached(timeout=TIMEOUT)
        assert page.evaluate("document.scrollingElement.scrollTop") > 0, "older messages came in above the reading"
        assert page.get_by_role("button", name="Jump to latest").is_visible()
        flick_up(page, 30)
        assert 100 < page.locator(".msg").count() <= 200, "a tab keeps ten pages at most"
        screenshot(page, "history-5000-scrolled-up")


def flick_up(page: Page, times: int) -> None:
    for _ in range(times):
        page.mouse.wheel(0, -2500)
        page.wait_for_timeout(150)


def test_connecting_a_provider_from_the_page_offers_its_models_at_once(page: Page, tmp_path):
    with fake_providers() as fakes:
        anthropic = fakes["anthropic"]
        environment = {"ANTHROPIC_API_KEY": "", "ANTHROPIC_BASE_URL": ""}
        with chat_app(tmp_path, fakes=fakes, **environment) as app:
            page.goto(f"{app.url}/connections")
            card = page.locator(".q-card").filter(has_text="Anthropic")
            expect(card).to_contain_text("Not connected")
            card.get_by_label("API key").fill(anthropic.api_key)
            card.get_by_label("Address (optional)").fill(anthropic.base_url)
            card.get_by_role("button", name="Test Anthropic").click()
            expect(card).to_contain_text("It works", timeout=TIMEOUT)
            screenshot(page, "connections")
            card.get_by_role("button", name="Save Anthropic").click()
            expect(card).to_contain_text("Connected · key", timeout=TIMEOUT)
            assert anthropic.api_key not in page.content()

            page.goto(app.url)
            page.get_by_label("Model").click()
            page.get_by_role("option", name="Anthropic · claude-sonnet-4-5").click()
            anthropic.play(Reply(tokens=["Hello ", "from Claude."]))
            send(page, "Hi")

            expect(last_reply(page)).to_contain_text("Hello from Claude.", timeout=TIMEOUT)
