"""One tool call inside a reply: a collapsible step, built from its stored record (never from the reply's text, so
text that looks like a step stays text). Its outer element carries data-role="tool", data-tool-name and a
data-status kept current. Everything a tool or a model wrote is shown as text, never as markup."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from functools import partial

from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement

from app.chat.tool_calls import Decision
from app.storage.models import ToolStatus, ToolStepPublic

# What a step shows of a result inline; the whole of it downloads.
SHOWN_RESULT_CHARS = 20_000
STATUS_WORDS = {
    ToolStatus.STREAMING: "writing the call…",
    ToolStatus.AWAITING_APPROVAL: "waiting for your approval",
    ToolStatus.RUNNING: "running",
    ToolStatus.COMPLETE: "done",
    ToolStatus.ERROR: "failed",
    ToolStatus.DENIED: "denied",
    ToolStatus.STOPPED: "stopped",
    ToolStatus.INTERRUPTED: "interrupted: the server stopped during this call",
}
STATUS_ICONS = {
    ToolStatus.STREAMING: "edit_note",
    ToolStatus.AWAITING_APPROVAL: "help_outline",
    ToolStatus.RUNNING: "hourglass_top",
    ToolStatus.COMPLETE: "check_circle",
    ToolStatus.ERROR: "error_outline",
    ToolStatus.DENIED: "block",
    ToolStatus.STOPPED: "stop_circle",
    ToolStatus.INTERRUPTED: "report",
}
# Images a tool returns are shown only as these kinds of data: URL (an SVG could carry script).
SHOWN_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+")

Decide = Callable[[int, Decision], object]


class Preformatted(TextElement):
    """A `<pre>` of text: what a tool or a model wrote, shown exactly, never parsed as markup."""

    def __init__(self, text: str = "") -> None:
        super().__init__(tag="pre", text=text)


def readable(text: str) -> str:
    """JSON pretty-printed; anything else as it is."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


class ToolStepView:
    def __init__(self, step: ToolStepPublic, decide: Decide | None, started_at: Callable[[int], float | None]) -> None:
        self.position = step.position
        self._decide, self._started_at = decide, started_at
        self._shown: ToolStepPublic | None = None
        self.root = ui.element("div").classes("tool-step").props("data-role=tool")
        self.root.props["data-tool-name"] = step.tool  # set as values: a tool's name is not parsed
        with self.root:
            with ui.element("details") as self.details, ui.element("summary").classes("tool-summary"):
                self.icon = ui.icon("build", size="1.1rem")
                ui.label(step.tool).classes("tool-name")
                self.where = ui.label(f"· {step.source}" if step.source else "").classes("tool-source")
                self.state = ui.label("").classes("tool-state")
            with self.details:
                ui.label("Arguments").classes("tool-heading")
                self.arguments = Preformatted().classes("tool-arguments")
                self.result_part = ui.element("div").classes("tool-result")
            self.approval = ui.row().classes("tool-approval items-center gap-2")
        # "running · 3 s" counts up: a timer only for a step that runs (a stored one never does, and a long history
        # holds many).
        self.timer: ui.timer | None = None
        self.show(step)

    def show(self, step: ToolStepPublic) -> None:
        """Bring the step up to date; only what changed is touched (this runs once per frame while streaming)."""
        if step is self._shown:
            return
        before, self._shown = self._shown, step
        if before is None or (before.arguments, _writing(before)) != (step.arguments, _writing(step)):
            # As the model writes them, then (once whole) laid out.
            self.arguments.set_text(step.arguments if _writing(step) else readable(step.arguments))
        if before is None or before.status != step.status:
            self._show_status(step.status)
        if before is None or (before.result, before.images) != (step.result, step.images):
            self._show_result(step)
        self._tick()

    def _show_status(self, status: ToolStatus) -> None:
        self.root.props(f"data-status={status.value}")
        self.icon.props(f"name={STATUS_ICONS[status]}")
        if status == ToolStatus.RUNNING and self.timer is None:
            with self.root:
                self.timer = ui.timer(1.0, self._tick)
        elif self.timer is not None:
            self.timer.active = status == ToolStatus.RUNNING
        self._show_approval(status == ToolStatus.AWAITING_APPROVAL)
        if status in (ToolStatus.ERROR, ToolStatus.DENIED, ToolStatus.AWAITING_APPROVAL):
            self.details.props("open")  # what needs reading or an answer is not folded away

    def _tick(self) -> None:
        step = self._shown
        assert step is not None
        words = "· " + STATUS_WORDS[step.status]
        started = self._started_at(step.position)
        if step.status == ToolStatus.RUNNING and started is not None:
            words += f" · {time.monotonic() - started:.0f} s"
        elif step.duration_ms is not None:
            words += f" · {step.duration_ms / 1000:.1f} s"
        if self.state.text != words:
            self.state.set_text(words)

    def _show_approval(self, asked: bool) -> None:
        self.approval.clear()
        if not asked or self._decide is None:
            return
        with self.approval:
            ui.label(f"Run {self._shown.tool} with these arguments?").classes("text-sm")
            for label, decision, look in (
                ("Allow once", Decision.ALLOW_ONCE, "unelevated"),
                ("Always allow", Decision.ALWAYS, "outline"),
                ("Deny", Decision.DENY, "flat color=negative"),
            ):
                button = ui.button(label, on_click=lambda d=decision: self._decide(self.position, d))
                button.props(f"{look} dense no-caps")

    def _show_result(self, step: ToolStepPublic) -> None:
        self.result_part.clear()
        if step.result is None:
            return
        with self.result_part:
            ui.label("Error" if step.is_error else "Result").classes("tool-heading")
            shown = readable(step.result) if len(step.result) <= SHOWN_RESULT_CHARS else step.result
            more = len(shown) - SHOWN_RESULT_CHARS
            output = Preformatted(shown[:SHOWN_RESULT_CHARS] + (f"\n… {more:,} more characters" if more > 0 else ""))
            output.classes("tool-output" + (" tool-output-error" if step.is_error else ""))
            _images(step.images)
            if more > 0:
                download = partial(ui.download.content, step.result, f"{step.tool}-result.txt")
                ui.button("Download the whole result", icon="download", on_click=download).props("flat dense no-caps")


def _writing(step: ToolStepPublic) -> bool:
    return step.status == ToolStatus.STREAMING


def _images(images: str | None) -> None:
    for image in json.loads(images or "[]"):
        if SHOWN_IMAGE.fullmatch(image):
            ui.image(image).classes("tool-image").props('alt="An image the tool returned"')
