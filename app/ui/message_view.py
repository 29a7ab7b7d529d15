"""One rendered message. Its outer element carries data-role and, for replies, a data-status kept current."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nicegui import ui

from app.chat.branches import Version
from app.chat.generation import STATS_FIELDS, Generation
from app.metrics import Delivery
from app.providers.catalog import ModelOption
from app.storage.models import Message, Role, Status, ToolStepBase, tokens_per_second
from app.ui.reply_parts import ReplyParts
from app.ui.streaming.incremental import Patch
from app.ui.streaming.live_reply import LiveReply
from app.ui.tool_step_view import Decide

STATUS_NOTES = {
    Status.STOPPED: "Stopped",
    Status.INTERRUPTED: "Interrupted: the server stopped while this reply was being written",
}


Copier = Callable[[str], object]
# Enter that confirms an IME composition (Japanese, Chinese...) only ends the composition.
ENTER_UNLESS_COMPOSING = "(e) => { if (!e.isComposing) { e.preventDefault(); emit(); } }"


def copy_button(on_copy: Copier, text: Callable[[], str]) -> ui.button:
    button = ui.button(icon="content_copy", on_click=lambda: on_copy(text()))
    return button.props('flat round dense size=sm aria-label="Copy message" title="Copy message"').classes("msg-copy")


def message_stats(message: Message) -> dict:
    return {name: getattr(message, name) for name in STATS_FIELDS}


def reply_stats(
    content: str,
    input_tokens: int | None,
    output_tokens: int | None,
    first_token_ms: int | None,
    duration_ms: int | None,
    tools_ms: int | None = None,
) -> str:
    """` · 0.42 s to first token · 85 tok/s · 12 in / 240 out`; `~` marks a count estimated from the text (the
    provider gave none, e.g. after Stop)."""
    output, estimated = output_tokens, False
    if output is None and content:
        output, estimated = max(1, round(len(content) / 4)), True
    mark = "~" if estimated else ""
    parts = [
        f"{first_token_ms / 1000:.2f} s to first token" if first_token_ms is not None else None,
        _speed(tokens_per_second(output, first_token_ms, duration_ms, tools_ms), mark),
        _token_counts(input_tokens, output, mark),
    ]
    return "".join(f" · {part}" for part in parts if part)


def _speed(speed: float | None, mark: str) -> str | None:
    return None if speed is None else f"{mark}{speed:.0f} tok/s"


def _token_counts(input_tokens: int | None, output: int | None, mark: str) -> str | None:
    if not output and input_tokens is None:
        return None
    tokens_in = "?" if input_tokens is None else f"{input_tokens:,}"
    tokens_out = "?" if output is None else f"{mark}{output:,}"
    return f"{tokens_in} in / {tokens_out} out"


Stepper = Callable[[int], None]  # -1: the version before, +1: the one after
Editor = Callable[[Message, str], object]


def version_switcher(version: Version, on_step: Stepper) -> None:
    """`‹ 2/3 ›`: which version of a message this is, and the way to the others."""
    with ui.row().classes("items-center no-wrap gap-0").mark("versions"):
        previous = ui.button(icon="chevron_left", on_click=lambda: on_step(-1))
        previous.props('flat round dense size=sm aria-label="Previous version"').set_enabled(version.index > 1)
        ui.label(f"{version.index}/{version.count}").classes("text-xs opacity-70").mark("version")
        following = ui.button(icon="chevron_right", on_click=lambda: on_step(1))
        following.props('flat round dense size=sm aria-label="Next version"').set_enabled(version.index < version.count)


def message_root() -> ui.element:
    """A message's outer element, a component of its own (Quasar's QNoSsr, which renders its content in a div):
    the browser re-renders a plain element with the nearest component around it, so a change to one message
    (its buttons after a newer message, say) would otherwise render every message of the conversation again."""
    return ui.element("q-no-ssr")


@dataclass(frozen=True)
class HandOn:
    """The "Continue with <next model>" button of a reply that failed after its first token, where a route goes on."""

    next_model: Callable[[], ModelOption | None]  # asked when the error shows (None: no button)
    run: Callable[[], object]


@dataclass(frozen=True)
class MessageActions:
    """What the buttons of a message do. Those left None are not shown."""

    copy: Copier
    retry: Callable[[], object] | None = None  # a reply: regenerate (None where it would answer the wrong question)
    edit: Editor | None = None  # the person's own message: edit and send again
    step: Stepper | None = None  # to another version of the message
    decide: Decide | None = None  # a reply being written: the answer to "run this tool call?"
    hand_on: HandOn | None = None  # the last reply: continue it with the route's next model


class UserMessageView:
    def __init__(self, message: Message, actions: MessageActions, version: Version | None = None) -> None:
        self.message = message
        self.actions, self.version = actions, version
        self.root = message_root().classes("msg msg-user").props(f"data-role={Role.USER.value}")
        self.root.props('role=article aria-label="You"').mark("user-message")
        self.show_text()

    def show_text(self) -> None:
        self.root.clear()
        with self.root:
            # Plain text, never markdown: what the person typed is shown exactly as typed.
            ui.label(self.message.content).classes("msg-text").props('dir="auto"')
            with ui.row().classes("items-center no-wrap gap-0"):
                copy_button(self.actions.copy, lambda: self.message.content)
                if self.actions.edit is not None:
                    edit = ui.button(icon="edit", on_click=self.start_editing).classes("msg-copy")
                    edit.props('flat round dense size=sm aria-label=Edit title="Edit"')
                if self.version is not None and self.actions.step is not None:
                    version_switcher(self.version, self.actions.step)

    def start_editing(self) -> None:
        self.root.clear()
        with self.root:
            box = ui.textarea(value=self.message.content).props("autogrow outlined autofocus dir=auto")
            box.classes("w-full min-w-80").mark("edit-box")
            box.props('aria-label="Edit your message"')

            def save() -> object:
                assert self.actions.edit is not None
                return self.actions.edit(self.message, box.value or "")

            # As in the message box: Enter saves and sends, Shift+Enter is a new line, Esc cancels.
            box.on("keydown.enter.exact", save, js_handler=ENTER_UNLESS_COMPOSING)
            box.on("keydown.esc", self.show_text, js_handler="(e) => { e.stopPropagation(); emit(); }")
            with ui.row().classes("justify-end gap-1"):
                ui.button("Cancel", on_click=self.show_text).props("flat no-caps dense")
                send = ui.button("Save & send", on_click=save)
                send.props('unelevated no-caps dense aria-label="Save and send"')


def typing_dots() -> ui.element:
    # CSS dots, deleted once text arrives: an SVG spinner animates on (and costs CPU) even when hidden.
    with ui.element("div").classes("typing").props('aria-label="Thinking"').mark("typing") as dots:
        for _ in range(3):
            ui.element("span")
    return dots


class ReplyView:
    """A reply: one stored (`ReplyView.stored`) or one being written, shown by its shared renderer
    (`ReplyView.streaming`)."""

    def __init__(
        self,
        model_label: str,
        actions: MessageActions,
        body: Callable[[], ReplyParts],
        text: Callable[[], str],
        version: Version | None,
        thinking: bool,
    ) -> None:
        self.retry, self.hand_on = actions.retry, actions.hand_on
        self.root = message_root().classes("msg msg-assistant").props(f"data-role={Role.ASSISTANT.value}")
        self.root.props("role=article").mark("reply")
        self.root.props["aria-label"] = model_label or "Assistant"  # set as a value: a model's name is not parsed
        with self.root:
            self.note = ui.label("").classes("msg-note").mark("context-note")
            self.body = body()
            self.typing = typing_dots() if thinking else None
            self.notice = ui.label("").classes("msg-notice")
            self.banner_slot = ui.element("div")
            with ui.row().classes("items-center gap-1 no-wrap"):
                # The markdown as written, not the rendered page: what people paste into an editor or another chat.
                copy_button(actions.copy, text)
                self.regenerate = ui.button(icon="refresh", on_click=lambda: self.retry and self.retry())
                self.regenerate.props('flat round dense size=sm aria-label=Regenerate title="Regenerate"')
                self.regenerate.classes("msg-copy").set_visibility(False)
                if version is not None and actions.step is not None:
                    version_switcher(version, actions.step)
                self.footer = ui.label(model_label).classes("msg-footer")
        self._shown: dict[str, object] = {"model": model_label}
        self.live: LiveReply | None = None  # the reply being written, when this shows one

    @classmethod
    def stored(
        cls,
        message: Message,
        model_label: str,
        actions: MessageActions,
        version: Version | None = None,
        steps: Sequence[ToolStepBase] = (),
    ) -> ReplyView:
        def body() -> ReplyParts:
            return ReplyParts.stored(message.content, steps)

        view = cls(model_label, actions, body, lambda: message.content, version, thinking=False)
        view._show_state(message.status, message.error, None)
        view._show_note(message.note)
        view._set_footer(model_label + reply_stats(**message_stats(message)))
        return view

    @classmethod
    def streaming(
        cls, live: LiveReply, actions: MessageActions, version: Version | None = None, delivery: Delivery | None = None
    ) -> ReplyView:
        def body() -> ReplyParts:
            return ReplyParts.following(live, actions.decide, delivery)

        generation = live.generation
        thinking = not live.markdown.html and not live.finished_segments
        view = cls(generation.model.label, actions, body, lambda: generation.text, version, thinking)
        view.live = live
        view.show(None, generation)
        return view

    def show(self, patch: Patch | None, generation: Generation) -> None:
        if self.live is not None:
            self.body.show(patch, self.live)
        self._show_state(generation.status, generation.error, generation.shown_notice)
        self._show_note(generation.stored_note)
        stats = "" if generation.is_running else reply_stats(**generation.stats())
        self._set_footer(generation.model.label + stats)
        if self._changed("model", generation.model.label):  # a route's next model took the reply over
            self.root.props["aria-label"] = generation.model.label
            self.root.update()

    def _set_footer(self, text: str) -> None:
        if self._changed("footer", text):
            self.footer.set_text(text)

    def _show_state(self, status: Status, error: str | None, notice: str | None) -> None:
        # Each element is touched only when what it shows changes: this runs once per frame while streaming.
        if self.typing is not None and (status != Status.STREAMING or self.body.has_content):
            self.typing.delete()
            self.typing = None
        note = notice or STATUS_NOTES.get(status, "")
        if self._changed("notice", note):
            self.notice.set_text(note)
            self.notice.set_visibility(bool(note))
        if self._changed("status", status):
            self.regenerate.set_visibility(self.retry is not None and status != Status.STREAMING)
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
        if self.retry is not None or self.hand_on is not None:
            self.retry, self.hand_on = None, None
            self.regenerate.set_visibility(False)
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
            with ui.row().classes("items-center gap-1"):
                if self.retry is not None:
                    ui.button("Retry", icon="refresh", on_click=self.retry).props(
                        "flat dense no-caps color=negative aria-label=Retry"
                    )
                if self.hand_on is not None and (model := self.hand_on.next_model()):
                    carry_on = ui.button(f"Continue with {model.label}", icon="fast_forward", on_click=self.hand_on.run)
                    carry_on.props("flat dense no-caps color=primary").mark("continue-with")
