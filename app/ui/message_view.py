"""One rendered message. Its outer element carries data-role and, for replies, a data-status kept current."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app.chat.generation import Generation
from app.storage.models import Message, Role, Status
from app.ui.incremental import Patch
from app.ui.live_reply import LiveReply
from app.ui.markdown import render_markdown
from app.ui.streaming_markdown import StreamingMarkdown

STATUS_NOTES = {
    Status.STOPPED: "Stopped",
    Status.INTERRUPTED: "Interrupted: the server stopped while this reply was being written",
}


Copier = Callable[[str], object]


def copy_button(on_copy: Copier, text: Callable[[], str]) -> ui.button:
    button = ui.button(icon="content_copy", on_click=lambda: on_copy(text()))
    return button.props('flat round dense size=sm aria-label=Copy title="Copy"').classes("msg-copy")


class UserMessageView:
    def __init__(self, message: Message, on_copy: Copier) -> None:
        with ui.element("div").classes("msg msg-user").props(f"data-role={Role.USER.value}").mark("user-message"):
            # Plain text, never markdown: what the person typed is shown exactly as typed.
            ui.label(message.content).classes("msg-text").props('dir="auto"')
            copy_button(on_copy, lambda: message.content)


def typing_dots() -> ui.element:
    # CSS dots, deleted once text arrives: an SVG spinner animates on (and costs CPU) even when hidden.
    with ui.element("div").classes("typing").props('aria-label="Thinking"').mark("typing") as dots:
        for _ in range(3):
            ui.element("span")
    return dots


class ReplyView:
    """A reply: a stored `message`, or one still streaming whose shared renderer is `live`."""

    def __init__(
        self,
        message: Message | None,
        model_label: str,
        on_copy: Copier,
        on_retry: Callable[[], None] | None = None,
        live: LiveReply | None = None,
    ) -> None:
        self.on_retry = on_retry
        self.root = ui.element("div").classes("msg msg-assistant").props(f"data-role={Role.ASSISTANT.value}")
        self.root.mark("reply")
        with self.root:
            self.note = ui.label("").classes("msg-note").mark("context-note")
            if live is not None:
                self.body = StreamingMarkdown.following(live.markdown)
            else:
                self.body = StreamingMarkdown(render_markdown(message.content))
            self.typing = typing_dots() if live is not None and not live.markdown.html else None
            self.notice = ui.label("").classes("msg-notice")
            self.banner_slot = ui.element("div")
            with ui.row().classes("items-center gap-1 no-wrap"):
                # The markdown as written, not the rendered page: what people paste into an editor or another chat.
                copy_button(on_copy, lambda: live.generation.text if live is not None else message.content)
                self.footer = ui.label(model_label).classes("msg-footer")
        self._shown: dict[str, object] = {}
        if live is not None:
            self.show(None, live.generation)
        elif message is not None:
            self._show_state(message.status, message.error, None)
            self._show_note(message.note)
            self.set_usage(model_label, message.input_tokens, message.output_tokens)

    def show(self, patch: Patch | None, generation: Generation) -> None:
        if patch is not None:
            self.body.apply(patch)
        self._show_state(generation.status, generation.error, generation.notice)
        self._show_note(generation.note)
        self.set_usage(generation.model.label, generation.input_tokens, generation.output_tokens)

    def set_usage(self, model_label: str, input_tokens: int | None, output_tokens: int | None) -> None:
        usage = f" · {input_tokens} in / {output_tokens} out" if input_tokens is not None and output_tokens else ""
        if self._changed("footer", model_label + usage):
            self.footer.set_text(model_label + usage)

    def _show_state(self, status: Status, error: str | None, notice: str | None) -> None:
        # Each element is touched only when what it shows changes: this runs once per frame while streaming.
        if self.typing is not None and (status != Status.STREAMING or self.body.html):
            self.typing.delete()
            self.typing = None
        note = notice or STATUS_NOTES.get(status, "")
        if self._changed("notice", note):
            self.notice.set_text(note)
            self.notice.set_visibility(bool(note))
        if self._changed("status", status):
            self.root.props(f"data-status={status.value}")
            self._shown["error"] = error if status == Status.ERROR else None
            self._show_error(self._shown["error"])

    def _show_note(self, note: str | None) -> None:
        if self._changed("note", note):
            self.note.set_text(note or "")
            self.note.set_visibility(bool(note))

    def _changed(self, key: str, value: object) -> bool:
        if key in self._shown and self._shown[key] == value:
            return False
        self._shown[key] = value
        return True

    def drop_retry(self) -> None:
        """Once a newer message follows, retrying this reply would answer the wrong question."""
        if self.on_retry is not None:
            self.on_retry = None
            self._show_error(self._shown.get("error"))

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
