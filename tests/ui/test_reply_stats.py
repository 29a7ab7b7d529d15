"""A reply's footer (app/ui/message_view.py): time to first token, speed and token counts, `~` where counted
from the text because the provider gave none."""

from __future__ import annotations

import pytest

from app.ui.message_view import reply_stats


@pytest.mark.parametrize(
    ("content", "tokens_in", "tokens_out", "first_ms", "duration_ms", "footer"),
    [
        ("Hello", 12, 240, 420, 3420, " · 0.42 s to first token · 80 tok/s · 12 in / 240 out"),
        ("x" * 400, None, None, 200, 1200, " · 0.20 s to first token · ~100 tok/s · ? in / ~100 out"),  # after Stop
        ("Hi", 9, 1, 300, 300, " · 0.30 s to first token · 9 in / 1 out"),  # no time spent writing: no speed
        ("", 5, None, None, 800, " · 5 in / ? out"),  # failed before the first token
        ("", None, None, None, None, ""),
        ("Hello", 1_234_567, 2_000, 1000, 21_000, " · 1.00 s to first token · 100 tok/s · 1,234,567 in / 2,000 out"),
    ],
)
def test_the_footer_says_what_is_known_and_marks_what_is_estimated(
    content, tokens_in, tokens_out, first_ms, duration_ms, footer
):
    assert reply_stats(content, tokens_in, tokens_out, first_ms, duration_ms) == footer


def test_the_speed_leaves_out_the_time_the_tool_calls_took():
    # 240 tokens over 3 s from the first token to the end, 2 s of which a tool call ran: 240 in 1 s of writing.
    footer = reply_stats("Found it.", 12, 240, 420, 3420, tools_ms=2000)
    assert footer == " · 0.42 s to first token · 240 tok/s · 12 in / 240 out"
