"""A route in a real browser: chosen in the Model selector, a reply that goes to the next model when the first is
overloaded (and says so), and one that fails mid-way continued by the next model with one click."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.app_process import chat_app
from tests.browser.conftest import screenshot
from tests.browser.test_chat_in_browser import TIMEOUT, last_reply, send
from tests.fakes.provider_server import HttpError, Reply

# Three providers, tried in this order.
ROUTE = "fast=anthropic:claude-haiku-4-5,openai:gpt-4o-mini,together:meta-llama/Llama-3.3-70B-Instruct-Turbo"


@pytest.fixture
def routed_app(tmp_path):
    with chat_app(tmp_path, MODEL_ROUTES=ROUTE, RETRY_ATTEMPTS="0") as running:
        yield running


def choose_route(page: Page) -> None:
    page.get_by_label("Model").click()
    page.get_by_role("option", name="Route · fast").click()


def test_the_route_tries_its_models_in_order_and_the_reply_says_who_answered(page: Page, routed_app):
    fakes = routed_app.fakes
    fakes["anthropic"].play(HttpError(529, "Overloaded", "overloaded_error"))
    fakes["openai"].play(HttpError(429, "Slow down", "rate_limit_exceeded", {"retry-after": "120"}))
    fakes["together"].play(Reply(tokens=["Llama ", "answers ", "**this**."], delay=0.05))
    page.goto(routed_app.url)
    choose_route(page)

    send(page, "Who is there?")

    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(reply.locator("strong")).to_have_text("this")
    expect(reply).to_contain_text(
        "Anthropic overloaded, OpenAI rate-limited; answered by Together · meta-llama/Llama-3.3-70B-Instruct-Turbo."
    )
    expect(reply.locator(".msg-footer")).to_contain_text("Together · meta-llama/Llama-3.3-70B-Instruct-Turbo")
    assert [len(fakes[name].chat_requests) for name in ("anthropic", "openai", "together")] == [1, 1, 1]
    screenshot(page, "route-fell-back")

    page.reload()  # stored, not only shown
    expect(last_reply(page)).to_contain_text("answered by Together", timeout=TIMEOUT)
    expect(page.get_by_label("Model")).to_have_value("Route · fast")

    page.goto(routed_app.url + "/routes")
    expect(page.get_by_text("Set by MODEL_ROUTES")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("li")).to_have_text(
        ["Anthropic · claude-haiku-4-5", "OpenAI · gpt-4o-mini", "Together · meta-llama/Llama-3.3-70B-Instruct-Turbo"]
    )
    screenshot(page, "routes-page")


def test_a_reply_cut_off_mid_way_is_continued_by_the_next_model(page: Page, routed_app):
    fakes = routed_app.fakes
    fakes["anthropic"].play(Reply(tokens=["Roses are red, ", "violets ", "are"], fail_after=2, delay=0.05))
    fakes["openai"].play(Reply(tokens=["are blue."], delay=0.05))
    page.goto(routed_app.url)
    choose_route(page)

    send(page, "A poem")

    expect(last_reply(page)).to_have_attribute("data-status", "error", timeout=TIMEOUT)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Anthropic")
    assert not fakes["openai"].chat_requests  # nothing switched on its own after the first token
    carry_on = alert.get_by_role("button", name="Continue with OpenAI · gpt-4o-mini")
    expect(carry_on).to_be_visible()
    screenshot(page, "route-continue-with")

    carry_on.click()

    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=TIMEOUT)
    expect(reply).to_contain_text("Roses are red, violets are blue.")
    expect(reply).to_contain_text("Continued by OpenAI · gpt-4o-mini where Anthropic · claude-haiku-4-5 failed.")
    expect(reply.locator(".msg-footer")).to_contain_text("OpenAI · gpt-4o-mini")
    expect(page.get_by_text("2/2")).to_be_visible()
    page.get_by_role("button", name="Previous version").last.click()
    expect(last_reply(page)).to_have_attribute("data-status", "error", timeout=TIMEOUT)  # the failed one is kept
