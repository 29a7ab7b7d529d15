"""One rendered message. Its outer element carries data-role and, for replies, a data-status kept current."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app.storage.models import Message, Role, Status
from app.ui.markdown import render_markdown

STATUS_NOTES = {
    Status.STOPPED: "Stopped",
    Status.INTERRUPTED: "Interrupted: the server stopped while this reply was being written",
}


class UserMessageView:
    def __init__(self, message: Message) -> None:
        with ui.element("div").classes("msg msg-user").props(f"data-role={Role.USER.value}").mark("user-message"):
            # Plain text, never markdown: what the person typed is shown exactly as typed.
            ui.label(message.content).classes("msg-text").props('dir="auto"')


class ReplyView:
    """A reply, possibly still streaming. `update` is cheap to call often; the page throttles it."""

    def __init__(self, message: Message, model_label: str, on_retry: Callable[[], None] | None = None) -> None:
        self.on_retry = on_retry
        self.root = ui.element("div").classes("msg msg-assistant").props(f"data-role={Role.ASSISTANT.value}")
        self.root.mark("reply")
        with self.root:
            self.body = ui.html("", tag="div").classes("md-body").props('dir="auto"')
            self.typing = ui.spinner("dots", size="md").classes("typing")
            self.notice = ui.label("").classes("msg-notice")
            self.banner_slot = ui.element("div")
            self.footer = ui.label(model_label).classes("msg-footer")
        self._text: str | None = None
        self._status: Status | None = None
        self.update(message.content, message.status, message.error)
        self.set_usage(model_label, message.input_tokens, message.output_tokens)

    def update(self, text: str, status: Status, error: str | None = None, notice: str | None = None) -> None:
        if text != self._text:
            self._text = text
            self.body.set_content(render_markdown(text))
        self.typing.set_visibility(status == Status.STREAMING and not text)
        self.notice.set_text(notice or STATUS_NOTES.get(status, ""))
        self.notice.set_visibility(bool(notice) or status in STATUS_NOTES)
        if status != self._status:
            self._status = status
            self.root.props(f"data-status={status.value}")
            self._show_error(error if status == Status.ERROR else None)

    def set_usage(self, model_label: str, input_tokens: int | None, output_tokens: int | None) -> None:
        usage = f" · {input_tokens} in / {output_tokens} out" if input_tokens is not None and output_tokens else ""
        self.footer.set_text(model_label + usage)

    def _show_error(self, error: str | None) -> None:
        # The alert exists only while there is an error, so assistive technology announces it when it appears.
        self.banner_slot.clear()
        if error is None:
            return
        with self.banner_slot, ui.element("div").classes("msg-error").props('role="alert"').mark("error-banner"):
            with ui.row().classes("items-center no-wrap gap-2"):
                ui.icon("error_outline", color="negative")
                ui.label(error).classes("msg-error-text")
            if self.on_retry is not None:
                ui.button("Retry", icon="refresh", on_click=self.on_retry).props(
                    "flat dense no-caps color=negative aria-label=Retry"
                )
