"""What a benchmark tab measures in the browser: when each token reaches the DOM."""

from __future__ import annotations

import subprocess
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
        self.clock_offset_ms = 0.0
        self.payload_bytes = 0
        self.reloaded = False

    @classmethod
    async def open(cls, browser, url: str, count_frames: bool = False) -> Tab:
        """`count_frames`: sum the websocket payload the page receives, through DevTools (which copies every frame,
        so only one tab of a scenario does it)."""
        context = await browser.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        tab = cls(context, page)
        if count_frames:
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            cdp.on("Network.webSocketFrameReceived", tab._count_frame)
        await page.goto(url)
        await page.get_by_placeholder("Message").wait_for()
        await page.evaluate(OBSERVER)
        tab.clock_offset_ms = await tab._clock_offset()
        return tab

    def _count_frame(self, event: dict) -> None:
        self.payload_bytes += len(event["response"]["payloadData"].encode())

    async def _clock_offset(self) -> float:
        """Browser clock minus this process's clock, from the round trip with the smallest delay."""
        samples = []
        for _ in range(7):
            before = time.time()
            browser_ms = await self.page.evaluate("performance.timeOrigin + performance.now()")
            after = time.time()
            samples.append((after - before, browser_ms - (before + after) / 2 * 1000))
        return min(samples)[1]

    async def type(self, text: str) -> None:
        await self.page.get_by_placeholder("Message").fill(text)

    async def press_send(self) -> None:
        await self.page.get_by_placeholder("Message").press("Enter")

    async def wait_for_token(self, index: int, timeout_s: float) -> bool:
        """Polls once the stream should be over: polling while it runs would add work to what is measured."""
        try:
            await self.page.wait_for_function(f"window.__seen.length > {index}", timeout=timeout_s * 1000, polling=100)
        except Exception:  # a timeout: the reply did not finish in time, which the table reports
            return False
        return True

    async def seen_ms(self) -> list[float | None]:
        """When each token appeared, on this process's clock."""
        seen = await self.page.evaluate("window.__seen")
        if seen is None:  # the page reloaded itself (NiceGUI does when it cannot replay missed messages)
            self.reloaded = True
            return []
        return [None if t is None else t - self.clock_offset_ms for t in seen]

    async def close(self) -> None:
        await self.context.close()


def bytes_sent_per_connection(port: int) -> dict[str, int]:
    """TCP payload bytes the server on `port` has sent and had acknowledged, per open connection (by the peer's
    address), from the kernel's own counters: measuring this way adds no work to the browser or the server."""
    listing = subprocess.run(
        ["ss", "-tinH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    sent, peer = {}, None
    for line in listing:
        fields = line.split()
        if len(fields) >= 4 and ":" in fields[-1] and not line.startswith((" ", "\t")):
            peer = fields[-1]
        for field in fields:
            if field.startswith("bytes_acked:") and peer:
                sent[peer] = int(field.split(":")[1])
    return sent


def bytes_sent_since(before: dict[str, int], port: int) -> int:
    after = bytes_sent_per_connection(port)
    return sum(total - before.get(peer, 0) for peer, total in after.items())
