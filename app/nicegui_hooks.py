"""The few things this app needs from NiceGUI that it offers no public API for, wrapped here and only here. Each
is checked by tests/test_nicegui_hooks.py, which fails when a NiceGUI release changes it.

The browser side leans on two ids in NiceGUI's page template, named below and used in app/ui/static/chat.js
(the connection notice it watches to show "Reconnecting…") and chat.css (the too-long notice it hides)."""

from __future__ import annotations

from nicegui import Client

# NiceGUI's page template (nicegui/templates/index.html): its notice while the websocket is away, aria-hidden
# "false" while shown; and its notice for a message over 1 MB.
CONNECTION_NOTICE_ID = "popup"
TOO_LONG_NOTICE_ID = "too_long_message_popup"


def open_page(client_id: str) -> Client | None:
    """The page (NiceGUI's client) with this id, while it is open. NiceGUI keeps its registry in
    `Client.instances` and has no public lookup by id."""
    return Client.instances.get(client_id)


class ShowsTextToTests:
    """For an element that renders its own text in the browser: NiceGUI's `User` test simulation finds an
    element's text through its private `_displayed_contents`, which knows only NiceGUI's own elements."""

    def shown_text(self) -> str:
        raise NotImplementedError

    def _displayed_contents(self, *, only_visible: bool) -> list:
        return [self.shown_text()]
