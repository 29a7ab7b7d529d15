"""What a benchmark tab measures in the browser: when each token reaches the DOM, and the websocket bytes."""

from __future__ import annotations

import time

from playwright.async_api import BrowserContext, Page

# Tokens carry markers t0, t1, ...; on every DOM change the newest marker in the reply's last text nodes is read.
# Reading only the end keeps the probe's own cost flat while the reply grows.
OBSERVER = """
() => {
  window.__seen = [];
  let last = -1;
  const markerIn = (text) => { let top = -1; for (const m of text.matchAll(/t(\\d+)/g)) top = Math.max(top, +m[1]);
                               return top; };
  const lastText = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node = root; while (node.lastChild) node = node.lastChild;
    if (node.nodeType !== Node.TEXT_NODE) { walker.currentNode = node; node = walker.previousNode(); }
    let text = "";
    walker.currentNode = node || root;
    // Enough nodes to get past the newlines and punctuation spans that can end a block.
    for (let n = node, i = 0; n && i < 40 && text.length < 120; n = walker.previousNode(), i++) text = n.data + text;
    return text;
  };
  new MutationObserver(() => {
    const bodies = document.querySelectorAll('[data-role=assistant] .md-body');
    const body = bodies[bodies.length - 1];
    if (!body) return;
    const top = markerIn(lastText(body));
    if (top <= last) return;
    const now = performance.timeOrigin + performance.now();
    for (let i = last + 1; i <= top; i++) window.__seen[i] = now;
    last = top;
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}
"""


class Tab:
    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.ws_bytes = 0
        self.clock_offset_ms = 0.0

    @classmethod
    async def open(cls, browser, url: str) -> Tab:
        context = await browser.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        tab = cls(context, page)
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameReceived", tab._count_frame)
        await page.goto(url)
        await page.get_by_placeholder("Message").wait_for()
        await page.evaluate(OBSERVER)
        tab.clock_offset_ms = await tab._clock_offset()
        return tab

    def _count_frame(self, event: dict) -> None:
        self.ws_bytes += len(event["response"]["payloadData"].encode())

    async def _clock_offset(self) -> float:
        """Browser clock minus this process's clock, from the round trip with the smallest delay."""
        samples = []
        for _ in range(7):
            before = time.time()
            browser_ms = await self.page.evaluate("performance.timeOrigin + performance.now()")
            after = time.time()
            samples.append((after - before, browser_ms - (before + after) / 2 * 1000))
        return min(samples)[1]

    async def send(self, text: str) -> None:
        await self.page.get_by_placeholder("Message").fill(text)
        await self.page.get_by_placeholder("Message").press("Enter")

    async def wait_for_token(self, index: int, timeout_s: float) -> bool:
        try:
            await self.page.wait_for_function(f"window.__seen.length > {index}", timeout=timeout_s * 1000, polling=100)
        except Exception:  # a timeout: the reply did not finish in time, which the table reports
            return False
        return True

    async def seen_ms(self) -> list[float | None]:
        """When each token appeared, on this process's clock."""
        seen = await self.page.evaluate("window.__seen")
        return [None if t is None else t - self.clock_offset_ms for t in seen]

    async def close(self) -> None:
        await self.context.close()
