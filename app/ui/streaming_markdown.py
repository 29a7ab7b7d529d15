"""The element that shows a reply's markdown and takes patches instead of whole re-renders."""

from __future__ import annotations

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


def template_literal(text: str) -> str:
    """`text` as a JavaScript template literal. The call travels as a JSON string, where every quote of a JSON or
    JS string literal would be escaped twice (4 bytes); HTML is full of quotes, and a template literal has none."""
    escaped = text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return f"`{escaped}`"


class StreamingMarkdown(ui.element, component="streaming_markdown.js"):
    def __init__(self, html: str, *, seq: int = 0, stable: int | None = None) -> None:
        super().__init__()
        self.classes("md-body").props('dir="auto"')
        # The snapshot the browser starts from. Patches then change only `html` here: NiceGUI sends every change
        # of props to the browser whole, which is the quadratic cost this element exists to avoid.
        self._props["content"] = html
        self._props["seq"] = seq
        self._props["stable"] = len(html) if stable is None else stable
        self.html = html

    @classmethod
    def following(cls, markdown: IncrementalMarkdown) -> StreamingMarkdown:
        return cls(markdown.html, seq=markdown.seq, stable=len(markdown.stable_html))

    def apply(self, patch: Patch) -> None:
        if self.is_deleted:
            return
        self.html = self.html[: patch.keep] + patch.append
        self.client.run_javascript(
            f"chatPatch({self.id},{patch.seq},{patch.keep},{patch.stable},{template_literal(patch.append)})"
        )

    def _displayed_contents(self, *, only_visible: bool) -> list:
        return [self.html]
