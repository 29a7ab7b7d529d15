"""How long to wait before asking a provider again (app/chat/retry.py)."""

from __future__ import annotations

import pytest

from app.chat.retry import retry_delay


@pytest.mark.parametrize(
    ("attempt", "retry_after", "low", "high"),
    [
        (1, None, 0.75, 1.0),  # base 1 s, with up to a quarter off for jitter
        (2, None, 1.5, 2.0),
        (3, None, 3.0, 4.0),
        (6, None, 7.5, 10.0),  # capped at 10 s
        (1, 4.0, 4.0, 4.0),  # the server's Retry-After, exactly
        (5, 0.0, 0.0, 0.0),
        (1, 10.0, 10.0, 10.0),  # at the cap: still waited for
    ],
)
def test_the_wait_grows_to_a_cap_or_is_what_the_server_asked(attempt, retry_after, low, high):
    for _ in range(50):  # jitter: every draw stays in range
        assert low <= retry_delay(attempt, retry_after, base=1.0, cap=10.0) <= high


def test_a_server_asking_for_longer_than_the_cap_is_not_waited_for():
    assert retry_delay(1, retry_after=11.0, base=1.0, cap=10.0) is None
