"""A reply that calls tools is rendered in segments: each round's text is a markdown of its own, ended where its
calls begin, so what follows the calls streams as any reply does, patching only its own segment."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from app.chat.generation import Generation
from app.storage.models import ToolStatus, ToolStepPublic
from app.ui.streaming.live_reply import FRAME_SECONDS, LiveReply


def a_generation() -> Generation:
    model = SimpleNamespace(label="Scripted", key="scripted:model")
    return Generation("conversation", 1, model)


def stored(generation: Generation, text: str, *steps: ToolStepPublic) -> None:
    generation.received = text
    generation.text = text
    if steps:
        generation.calls.shown = steps
    generation.notify()


async def next_frame() -> None:
    await asyncio.sleep(FRAME_SECONDS * 3)


async def test_the_text_after_a_round_of_calls_streams_in_a_segment_of_its_own():
    generation = a_generation()
    live = LiveReply.of(generation)
    seen: list[tuple[int, str]] = []
    live.watch(lambda patch, _generation: seen.append((live.segment, patch.append if patch else "")))

    stored(generation, "Let me **check**.\n\n")
    await next_frame()
    call = ToolStepPublic(round=0, position=0, text_offset=len(generation.text), call_id="c", name="t", tool="t")
    stored(generation, generation.text, call.model_copy(update={"status": ToolStatus.RUNNING}))
    await next_frame()
    stored(generation, generation.text + "It is ")
    await next_frame()
    stored(generation, generation.text + "*42*.")
    await next_frame()

    assert live.segment == 1 and len(live.finished_segments) == 1
    assert "<strong>check</strong>" in live.finished_segments[0]
    after = [append for segment, append in seen if segment == 1]
    assert after and not any("check" in append for append in after), "the segment before is never sent again"
    assert live.markdown.html == "<p>It is <em>42</em>.</p>\n"


async def test_a_tab_that_opens_the_reply_later_gets_every_finished_segment():
    generation = a_generation()
    call = ToolStepPublic(round=0, position=0, text_offset=7, call_id="c", name="t", tool="t")
    stored(generation, "Before.After.", call)

    live = LiveReply.of(generation)

    assert live.finished_segments == ["<p>Before.</p>\n"] and live.markdown.html == "<p>After.</p>\n"
