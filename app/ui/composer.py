"""The message box and its buttons: Enter sends, Shift+Enter is a new line, Esc stops the reply being written, and
a text too long for the websocket travels over HTTP first (drafts.py, static/send.js)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from nicegui import ui
from nicegui.events import GenericEventArguments, KeyEventArguments

from app.ui.drafts import UPLOAD_ABOVE_CHARS, Drafts

TOO_LONG_TO_UPLOAD = (
    "That message is too long to send (the limit is {limit:,} characters). Nothing was sent, and your text is "
    "still in the box."
)
# Enter that confirms an IME composition (Japanese, Chinese...) only ends the composition.
SEND_UNLESS_COMPOSING = "(e) => { if (!e.isComposing) { e.preventDefault(); chatSend(emit); } }"


class Composer:
    def __init__(
        self,
        drafts: Drafts,
        max_chars: int,
        on_send: Callable[[str], Awaitable[bool]],
        on_stop: Callable[[], None],
        draft_path: Callable[[], str],
    ) -> None:
        self.drafts = drafts
        self.max_chars = max_chars
        self.on_send = on_send  # True once the message is stored and its reply started
        self.on_stop = on_stop
        self.draft_path = draft_path  # where this browser keeps the draft (static/chat.js)
        self._sending = False  # a message is being stored: a second Send (a double click) waits its turn
        self.client = ui.context.client
        with ui.footer().classes("chat-bar p-3"), ui.row().classes("composer items-end no-wrap gap-2"):
            self.box = (
                ui.textarea(placeholder="Message")
                .props("autogrow outlined dense autofocus input-style='max-height: 40vh' for=message-box")
                .props('aria-label="Message"')
                .classes("grow")
            )
            self.box.on("keydown.enter.exact", self.send, js_handler=SEND_UNLESS_COMPOSING)
            # Explicit labels: Quasar upper-cases button text on screen, and names should read as written.
            self.send_button = ui.button("Send", icon="send").on("click", self.send, js_handler="() => chatSend(emit)")
            self.send_button.props("unelevated no-caps aria-label=Send").classes("send-button")
            self.stop_button = ui.button("Stop", icon="stop", on_click=on_stop)
            self.stop_button.props("unelevated no-caps color=negative aria-label=Stop")
        # Esc stops the reply being written, even while typing the next message.
        ui.keyboard(self._on_key, ignore=[])

    async def send(self, event: GenericEventArguments | None = None) -> None:
        typed = event.args if event is not None and isinstance(event.args, dict) else {}
        text = self.drafts.take(self.client.id) or self.box.value or ""
        if typed.get("length", 0) > UPLOAD_ABOVE_CHARS and not typed.get("uploaded"):
            ui.notify(TOO_LONG_TO_UPLOAD.format(limit=self.max_chars), type="warning")
            return
        if not text.strip() or self._sending:
            return
        self._sending = True
        try:
            sent = await self.on_send(text)
        finally:
            self._sending = False
        if not sent:
            return  # the text stays in the box, to be sent again
        # The server may never have seen a long text's value (it came as a draft): set it, so clearing is a change.
        self.box.value = text
        self.box.value = ""
        self.client.run_javascript(f"chatDrafts.forget({json.dumps(self.draft_path())})")

    def show_streaming(self, streaming: bool) -> None:
        self.send_button.set_visibility(not streaming)
        self.stop_button.set_visibility(streaming)

    def _on_key(self, event: KeyEventArguments) -> None:
        if event.key.escape and event.action.keydown and self.stop_button.visible:
            self.on_stop()
