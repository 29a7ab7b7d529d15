"""One page that fails while being told of a change must not keep the change from the others."""

from __future__ import annotations

from app.listeners import Listeners


def test_a_failing_listener_is_logged_and_the_others_still_hear(caplog):
    heard = []
    listeners: Listeners[[str]] = Listeners("conversation abc")
    listeners.add(heard.append)
    listeners.add(lambda _: 1 / 0)
    listeners.add(lambda change: heard.append(change.upper()))

    listeners.notify("token")

    assert heard == ["token", "TOKEN"]
    assert "A listener of conversation abc failed" in caplog.text


def test_a_removed_listener_hears_nothing_more():
    heard = []
    listeners: Listeners[[str]] = Listeners("conversation abc")
    remove = listeners.add(heard.append)

    listeners.notify("first")
    remove()
    remove()  # removing twice is harmless: a page may be forgotten twice
    listeners.notify("second")

    assert heard == ["first"] and not listeners
