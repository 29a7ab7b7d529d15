"""The element that shows a reply's markdown and takes patches instead of whole re-renders."""

from __future__ import annotations

import json

from nicegui import ui

from app.ui.incremental import IncrementalMarkdown, Patch

# Installed once per page, before any patch can arrive: patches for an element not mounted yet wait here.
PATCH_RECEIVER = """
<script>
window.chatReplies = new Map();
window.chatPending = new Map();
window.chatPatch = (id, seq, keep, stable, append) => {
  const key = "c" + id, view = window.chatReplies.get(key);
  if (view) view.applyPatch(seq, keep, stable, append);
  else (window.chatPending.get(key) || window.chatPending.set(key, []).get(key)).push([seq, keep, stable, append]);
};
</script>
"""


class StreamingMarkdown(ui.element, component="streaming_markdown.js"):
    def __init__(self, html: str, *, seq: int = 0, stable: int | None = None) -> None:
        super().__init__()
        self.classes("md-body").props('dir="auto"')
        self._props["content"] = html
        self._props["seq"] = seq
        self._props["stable"] = len(html) if stable is None else stable

    @classmethod
    def following(cls, markdown: IncrementalMarkdown) -> StreamingMarkdown:
        return cls(markdown.html, seq=markdown.seq, stable=len(markdown.stable_html))

    @property
    def html(self) -> str:
        return self._props["content"]

    def apply(self, patch: Patch) -> None:
        if self.is_deleted:
            return
        # Props are kept current without sending them, so any later update of this element carries a snapshot
        # the browser can start over from.
        self._props["content"] = self._props["content"][: patch.keep] + patch.append
        self._props["seq"] = patch.seq
        self._props["stable"] = patch.stable
        # A bare call, not `run_method`: its arguments are sent once, not JSON inside a JSON string.
        self.client.run_javascript(
            f"chatPatch({self.id},{patch.seq},{patch.keep},{patch.stable},"
            f"{json.dumps(patch.append, ensure_ascii=False)})"
        )

    def _displayed_contents(self, *, only_visible: bool) -> list:
        return [self.html]
