"""The element that shows a reply's markdown and takes patches instead of whole re-renders."""

from __future__ import annotations

import asyncio
import time

from nicegui import ui
from nicegui.events import GenericEventArguments

from app.metrics import Delivery
from app.nicegui_hooks import ShowsTextToTests
from app.text import utf16_length
from app.ui.streaming.incremental import IncrementalMarkdown, Patch

# A tab that does not say it has a patch (its connection lost, say) gets the next one after this long anyway.
SHOWN_TIMEOUT = 2.0


def template_literal(text: str) -> str:
    """`text` as a JavaScript template literal. The call travels as a JSON string, where every quote of a JSON or
    JS string literal would be escaped twice (4 bytes); HTML is full of quotes, and a template literal has none."""
    escaped = text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return f"`{escaped}`"


class StreamingMarkdown(ShowsTextToTests, ui.element, component="streaming_markdown.js"):
    def __init__(self, html: str, *, seq: int = 0, stable: int | None = None) -> None:
        super().__init__()
        self.classes("md-body").props('dir="auto"')
        # The snapshot the browser starts from. Patches then change only `html` here: NiceGUI sends every change
        # of props to the browser whole, which is the quadratic cost this element exists to avoid.
        self._props["content"] = html
        self._props["seq"] = seq
        self._props["stable"] = utf16_length(html) if stable is None else stable
        # What the browser has, kept in the browser's unit (UTF-16) so a patch's offsets cut it where the page does.
        self._html16 = bytearray(html.encode("utf-16-le", "surrogatepass"))
        self._unsent: Patch | None = None
        self._in_flight: int | None = None  # the seq of the patch sent and not yet answered
        self._no_answer: asyncio.TimerHandle | None = None
        self._sent_at = 0.0
        self.delivery = Delivery()

    @classmethod
    def following(cls, markdown: IncrementalMarkdown, delivery: Delivery | None = None) -> StreamingMarkdown:
        """For a reply being written: takes patches, each answered by the browser once it has applied it (how long
        that took goes to `delivery`, the metrics)."""
        element = cls(markdown.html, seq=markdown.seq, stable=markdown.stable_units)
        element.delivery = delivery or Delivery()
        element.on("shown", element._on_shown)
        return element

    def apply(self, patch: Patch) -> None:
        if self.is_deleted:
            return
        del self._html16[2 * patch.keep :]
        self._html16 += patch.append.encode("utf-16-le", "surrogatepass")
        self._unsent = patch if self._unsent is None else self._unsent.then(patch)
        if self._in_flight is None:
            self._send_unsent()

    def _send_unsent(self) -> None:
        """One patch in flight per tab: the next waits until the browser says it has applied this one, merged with
        any after it. A tab that cannot keep up (a slow device, a busy machine) gets fewer, larger patches instead of
        a queue that makes it fall further and further behind."""
        patch, self._unsent = self._unsent, None
        assert patch is not None
        self._in_flight = patch.seq
        self._sent_at = time.monotonic()
        self._no_answer = asyncio.get_running_loop().call_later(SHOWN_TIMEOUT, self._no_answer_came)
        self.client.run_javascript(
            f"chatPatch({self.id},{patch.seq},{patch.keep},{patch.stable},{template_literal(patch.append)})"
        )

    def _on_shown(self, event: GenericEventArguments) -> None:
        if event.args == self._in_flight:  # not an answer to an older patch, replayed after a reconnection
            self.delivery.patch_shown(time.monotonic() - self._sent_at)
            self._send_next()

    def _no_answer_came(self) -> None:
        self.delivery.tab_fell_behind()
        self._send_next()

    def _send_next(self) -> None:
        if self._no_answer is not None:
            self._no_answer.cancel()
        self._in_flight = self._no_answer = None
        if self._unsent is not None and not self.is_deleted:
            self._send_unsent()

    @property
    def html(self) -> str:
        return self._html16.decode("utf-16-le", "surrogatepass")

    @property
    def has_content(self) -> bool:
        return bool(self._html16)

    def shown_text(self) -> str:
        return self.html
