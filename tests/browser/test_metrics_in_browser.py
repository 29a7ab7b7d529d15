"""Delivery to the browser, measured from the acknowledgements a tab sends for each patch it applies: after a reply
streams into a real page, GET /metrics has the latencies."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.browser.test_chat_in_browser import TIMEOUT, last_reply, send
from tests.fakes.provider_server import Reply


def test_the_time_from_sending_a_patch_to_the_tab_applying_it_is_measured(page: Page, app_server):
    app_server.fakes["openai"].play(Reply(tokens=[f"word{n} " for n in range(40)], delay=0.02))
    page.goto(app_server.url)
    send(page, "Stream something")
    expect(last_reply(page)).to_have_attribute("data-status", "complete", timeout=TIMEOUT)

    text = httpx.get(f"{app_server.url}/metrics").text

    delivered = float(re.search(r"^chat_browser_delivery_seconds_count (\S+)$", text, re.MULTILINE)[1])
    within_a_second = float(
        re.search(r'^chat_browser_delivery_seconds_bucket\{le="1.0"\} (\S+)$', text, re.MULTILINE)[1]
    )
    assert delivered >= 5 and within_a_second == delivered
    assert re.search(r'^chat_inter_token_gap_seconds_count\{provider="openai"\} 39.0$', text, re.MULTILINE)
