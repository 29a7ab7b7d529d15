"""A reply's body: its text, and its tool calls where they happened. A reply without calls is one markdown
segment; each round of calls ends a segment, and the next round's text starts a new one after the calls."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from nicegui import ui

from app.chat.tool_calls import calls_begin, rounds_of
from app.metrics import Delivery
from app.storage.models import ToolStepBase
from app.ui.markdown import render_markdown
from app.ui.streaming.incremental import Patch
from app.ui.streaming.live_reply import LiveReply
from app.ui.streaming.streaming_markdown import StreamingMarkdown
from app.ui.tool_step_view import Decide, ToolStepView


def never_started(_: int) -> float | None:
    return None


class ReplyParts:
    def __init__(
        self,
        decide: Decide | None,
        started_at: Callable[[int], float | None] = never_started,
        delivery: Delivery | None = None,
    ) -> None:
        self.root = ui.element("div").classes("reply-parts")
        self.delivery = delivery
        self.segments: list[StreamingMarkdown] = []
        self.steps: dict[int, ToolStepView] = {}
        self._step_groups: dict[int, ui.element] = {}  # by round
        self._decide, self._started_at = decide, started_at

    @classmethod
    def stored(cls, content: str, steps: Sequence[ToolStepBase]) -> ReplyParts:
        parts = cls(decide=None)
        start = 0
        for calls in rounds_of(steps):
            end = calls_begin(calls, start, len(content))
            parts._add_segment(lambda text=content[start:end]: StreamingMarkdown(render_markdown(text)))
            for step in calls:
                parts._show_step(step)
            start = end
        parts._add_segment(lambda: StreamingMarkdown(render_markdown(content[start:])))
        return parts

    @classmethod
    def following(cls, live: LiveReply, decide: Decide | None, delivery: Delivery | None = None) -> ReplyParts:
        """The parts of a reply being written, as far as it has come: its finished segments and their calls,
        then the segment being written (which takes the patches)."""
        generation = live.generation
        parts = cls(decide, generation.calls.started.get, delivery)
        for html in live.finished_segments:
            parts._add_segment(lambda html=html: StreamingMarkdown(html))
            parts._show_steps(generation.calls.shown, up_to_round=len(parts.segments) - 1)
        parts._add_segment(lambda: StreamingMarkdown.following(live.markdown, delivery))
        return parts

    @property
    def has_content(self) -> bool:
        return bool(self.steps) or any(segment.has_content for segment in self.segments)

    def show(self, patch: Patch | None, live: LiveReply) -> None:
        """A patch of the segment `live.segment`, and the calls shown so far."""
        self._show_steps(live.generation.calls.shown, up_to_round=live.segment)
        while len(self.segments) <= live.segment:
            self._add_segment(lambda: StreamingMarkdown.following(live.markdown, self.delivery))
        if patch is not None:
            self.segments[live.segment].apply(patch)

    def _add_segment(self, make: Callable[[], StreamingMarkdown]) -> None:
        with self.root:
            self.segments.append(make())

    def _show_steps(self, steps: Sequence[ToolStepBase], up_to_round: int) -> None:
        for step in steps:
            if step.round > up_to_round:
                continue
            if view := self.steps.get(step.position):
                view.show(step)
            else:
                self._show_step(step)

    def _show_step(self, step: ToolStepBase) -> None:
        group = self._step_groups.get(step.round)
        if group is None:
            with self.root:
                group = self._step_groups[step.round] = ui.element("div").classes("tool-steps")
        with group:
            self.steps[step.position] = ToolStepView(step, self._decide, self._started_at)
