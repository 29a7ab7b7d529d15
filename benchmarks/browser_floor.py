"""What the browsers alone cost: tabs of a static page that add a few words to a paragraph and scroll to them, as
often as a tab gets patches in the 20-tab scenario, with no app, server or websocket behind them.

Chromium's tabs run on the same cores as the app they measure, so this is the part of the machine the app can
never have in that scenario, however little it does.
"""

from __future__ import annotations

import asyncio

from benchmarks.cpu import chromium_cpu_seconds

PAGE = """<!doctype html>
<html><body style="margin:0;font:16px/1.5 sans-serif">
<header style="height:50px;border-bottom:1px solid #ddd">Chat</header>
<main id="scroller" style="position:absolute;top:51px;bottom:80px;left:0;right:0;overflow:auto">
  <article id="reply" style="max-width:52rem;margin:auto"><p></p></article>
</main>
<script>
  let word = 0;
  setInterval(() => {
    const reply = document.getElementById("reply"), scroller = document.getElementById("scroller");
    if (word % 100 === 99) reply.append(document.createElement("p"));
    reply.lastElementChild.append(` t${word++} t${word++}`);
    scroller.scrollTop = scroller.scrollHeight;
  }, 1000 / UPDATES_PER_SECOND);
</script>
</body></html>"""


async def browser_floor_cores(browser, tabs: int, updates_per_second: float, seconds: float = 8.0) -> float:
    contexts = [await browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(tabs)]
    try:
        for context in contexts:
            page = await context.new_page()
            await page.set_content(PAGE.replace("UPDATES_PER_SECOND", str(updates_per_second)))
        await asyncio.sleep(1)
        before = chromium_cpu_seconds()
        await asyncio.sleep(seconds)
        return (chromium_cpu_seconds() - before) / seconds
    finally:
        for context in contexts:
            await context.close()
