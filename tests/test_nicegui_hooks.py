"""What app/nicegui_hooks.py relies on in NiceGUI, which NiceGUI does not promise: when a release changes one of
these, this fails, and the one place that wraps it is where to look."""

from __future__ import annotations

import inspect
from pathlib import Path

import nicegui
import nicegui.element_filter
from nicegui import Client, ui

from app import nicegui_hooks
from app.nicegui_hooks import CONNECTION_NOTICE_ID, TOO_LONG_NOTICE_ID, ShowsTextToTests

TEMPLATE = Path(nicegui.__file__).parent / "templates" / "index.html"
STATIC = Path(nicegui_hooks.__file__).parent / "ui" / "static"


def test_the_page_template_still_has_the_notices_our_stylesheet_and_script_watch():
    template = TEMPLATE.read_text()

    assert f'<div id="{CONNECTION_NOTICE_ID}" class="nicegui-error-popup" aria-hidden="true">' in template
    assert f'<div id="{TOO_LONG_NOTICE_ID}" class="nicegui-error-popup" aria-hidden="true">' in template
    assert f'getElementById("{CONNECTION_NOTICE_ID}")' in (STATIC / "chat.js").read_text()
    css = (STATIC / "chat.css").read_text()
    assert f"#{CONNECTION_NOTICE_ID}.nicegui-error-popup" in css and f"#{TOO_LONG_NOTICE_ID}" in css


def test_open_pages_are_still_registered_by_id():
    assert isinstance(Client.instances, dict)


def test_the_user_simulation_still_reads_an_elements_text_where_we_give_it():
    hook = inspect.signature(ui.element._displayed_contents)
    assert list(hook.parameters) == ["self", "only_visible"]
    assert hook.parameters["only_visible"].kind is inspect.Parameter.KEYWORD_ONLY
    # What `user.should_see` and `user.find` filter by (and every reply's text in the UI tests with them).
    assert "._displayed_contents(only_visible=" in inspect.getsource(nicegui.element_filter)

    class Shown(ShowsTextToTests):
        def shown_text(self) -> str:
            return "hello"

    assert Shown()._displayed_contents(only_visible=True) == ["hello"]
