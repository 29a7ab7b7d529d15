"""The chat page: a header, the drawer, the message list and the composer, put together. The page renders and
forwards what the person does to the chat service; it decides nothing about conversations or replies."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from nicegui import app, ui

from app.chat.conversations import ConversationOptions
from app.chat.generation import Generation
from app.chat.service import ChatService
from app.chat.tool_calls import Decision
from app.providers.catalog import ModelCatalog
from app.security.access import SESSION_KEY, Access
from app.security.api_keys import ApiKeys
from app.settings import Settings
from app.storage.models import Message
from app.ui.api_keys_dialog import ApiKeysDialog
from app.ui.chat_header import ChatHeader
from app.ui.composer import Composer
from app.ui.conversation_list import ConversationList
from app.ui.drafts import Drafts
from app.ui.exchange_controls import ImportDialog
from app.ui.guard import REFUSED, Guard
from app.ui.message_list import ListActions, MessageList
from app.ui.theme import apply_theme, serve_static_files

CATALOG_WAIT_SECONDS = 2.0
SYSTEM_NOTE_CHARS = 120
# The pages beside the chat, in the drawer: (label, icon, address).
SIDE_PAGES = (
    ("Connections", "hub", "/connections"),
    ("Routes", "alt_route", "/routes"),
    ("Tools", "build", "/tools"),
    ("Stats", "insights", "/stats"),
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
        self.conversation_id = conversation_id
        # This browser's session: signing out in any tab ends it, and every action here checks it first.
        self.session = app.storage.user if parts.access.required else {}
        self.guard = Guard(self._signed_in)
        self.client = ui.context.client
        self.new_conversation_options: ConversationOptions | None = None  # set before the first message
        self._unwatch: Callable[[], None] | None = None
        self._gone = False
        apply_theme()
        self.drawer, self.conversation_list = self._build_drawer()
        current = self._current_id
        self.header = ChatHeader(
            self.service,
            parts.models,
            current,
            self.guard,
            self.drawer.toggle,
            self._keep_options,
            self._show_system_prompt,
        )
        with ui.column().classes("w-full gap-4 pb-8"):
            # The system prompt in use, visible in the chat (a click opens the settings that set it).
            self.system_note = ui.button(on_click=self.header.settings.open).props("flat no-caps dense icon=tune")
            self.system_note.classes("system-note").mark("system-prompt")
            self._show_system_prompt(self.service.conversations.options(self.conversation_id))
            actions = ListActions(
                copy=self.copy,
                retry=self.retry,
                edit=self.edit_message,
                switch=self.switch_version,
                signed_in=self._signed_in,
                streaming=self._show_streaming,
                reply_ended=self._on_reply_ended,
                decide=self.decide,
                continue_with=self.continue_with,
            )
            self.message_list = MessageList(self.service, self.parts.models, current, actions)
        self.composer = Composer(self.parts.drafts, self.parts.max_message_chars, self.send, self.stop, self._path)
        self.message_list.render()
        self._watch_conversation()
        self._unlisten = self.service.conversations.changes.add(self._on_conversation_change)
        self._unlisten_writing = self.service.replies.writing_changes.add(
            lambda conversation_id, writing: self._gone or self.conversation_list.mark_writing(conversation_id, writing)
        )
        self.client.on_delete(self._forget)
        self.client.on_disconnect(self._on_disconnect)
        self.client.on_connect(self._on_connect)
        self._lost_connection = False

    def _build_drawer(self) -> tuple[ui.left_drawer, ConversationList]:
        # Open beside the chat on a wide screen; on a phone it folds away behind the menu button. It takes the
        # footer's corner too, so the message box is centred on the chat, as the messages are.
        with ui.left_drawer(value=None, bottom_corner=True).classes("p-3") as drawer:
            new_chat = ui.button("New chat", icon="add", on_click=lambda: ui.navigate.to("/"))
            new_chat.props('outline no-caps aria-label="New chat"').classes("w-full")
            conversations = ConversationList(self.service, self.parts.drawer_page_size, self._current_id, self.guard)
            for number, (label, icon, path) in enumerate(SIDE_PAGES):
                page = ui.button(label, icon=icon, on_click=lambda path=path: ui.navigate.to(path))
                page.props(f'flat no-caps aria-label="{label}"').classes("w-full" + (" mt-4" if number == 0 else ""))
            import_dialog = ImportDialog(self.service, self.guard, conversations.render)
            import_button = ui.button("Import", icon="upload", on_click=import_dialog.open).classes("w-full")
            import_button.props('flat no-caps aria-label="Import"')
            keys_dialog = ApiKeysDialog(self.parts.keys, self._signed_in, self.copy)
            # The app's own HTTP API: not where a provider's key goes, which a new user would otherwise think.
            api_keys = ui.button("HTTP API keys", icon="key", on_click=keys_dialog.open).classes("w-full")
            api_keys.props('flat no-caps aria-label="HTTP API keys"')
            if self.parts.access.required:
                sign_out = ui.button("Sign out", icon="logout", on_click=self.sign_out).classes("w-full")
                sign_out.props('flat no-caps aria-label="Sign out"')
        return drawer, conversations

    # -- what the person does

    async def send(self, text: str) -> bool:
        send, model, options = self.service.replies.send, self.header.model_key, self.new_conversation_options
        generation = await self.guard.run(send, self.conversation_id, text, model, options=options)
        if generation is REFUSED:
            return False
        if self.conversation_id is None:
            self.conversation_id = generation.conversation_id
            ui.navigate.history.replace(self._path())
            self.message_list.started()
            self._watch_conversation()
            self.header.show_title()
        self.conversation_list.render()
        self.message_list.append_exchange(generation)  # already there if this page was watching the conversation
        return True

    def stop(self) -> None:
        if self.conversation_id and self._signed_in():
            self.service.replies.stop(self.conversation_id)

    async def decide(self, position: int, decision: Decision) -> None:
        if self.conversation_id is not None:
            await self.guard.run(self.service.replies.decide, self.conversation_id, position, decision)

    async def retry(self) -> None:
        if self.conversation_id is None:
            return
        generation = await self.guard.run(self.service.replies.retry, self.conversation_id, self.header.model_key)
        if generation is not REFUSED:
            self.message_list.append_exchange(generation)

    async def continue_with(self, reply_id: int) -> None:
        if self.conversation_id is None:
            return
        generation = await self.guard.run(self.service.replies.continue_with, self.conversation_id, reply_id)
        if generation is not REFUSED:
            self.message_list.append_exchange(generation)

    async def edit_message(self, message: Message, text: str) -> None:
        if self.conversation_id is None:
            return
        edit, model = self.service.replies.edit, self.header.model_key
        generation = await self.guard.run(edit, self.conversation_id, message.id, text, model)
        if generation is not REFUSED:
            self.message_list.append_exchange(generation)

    async def switch_version(self, message_id: int, step: int) -> None:
        if self.conversation_id is None:
            return
        switch = self.service.conversations.switch
        if await self.guard.run(switch, self.conversation_id, message_id, step) is not REFUSED:
            self.message_list.render()

    async def copy(self, text: str) -> None:
        if not self._signed_in():
            return
        copied = await ui.run_javascript(f"chatCopy({json.dumps(text)})", timeout=5)
        if copied:
            ui.notify("Copied", position="bottom", timeout=1200)
        else:
            ui.notify("Could not copy here: select the text and press Ctrl+C.", type="warning")

    def sign_out(self) -> None:
        self.session.pop(SESSION_KEY, None)  # every tab of this session is signed out at once
        ui.navigate.to("/logout")  # and the browser gets a new session id

    # -- what the page is told

    def _show_streaming(self, streaming: bool) -> None:
        self.composer.show_streaming(streaming)

    def _on_reply_ended(self, _generation: Generation) -> None:
        self.conversation_list.render()

    def _on_conversation_change(self, conversation_id: str) -> None:
        if self._gone:
            return
        self.conversation_list.render()
        if conversation_id == self.conversation_id:
            self.header.show_title()

    def _keep_options(self, options: ConversationOptions) -> None:
        self.new_conversation_options = options

    def _show_system_prompt(self, options: ConversationOptions) -> None:
        prompt = " ".join((options.system_prompt or "").split())
        cut = "…" if len(prompt) > SYSTEM_NOTE_CHARS else ""
        self.system_note.set_text(f"System prompt: {prompt[:SYSTEM_NOTE_CHARS]}{cut}")
        self.system_note.props["title"] = prompt[:2000]
        self.system_note.set_visibility(bool(prompt))

    def _watch_conversation(self) -> None:
        if self.conversation_id is not None and self._unwatch is None:
            self._unwatch = self.service.replies.watch(self.conversation_id, self._shown_elsewhere)

    def _shown_elsewhere(self, generation: Generation) -> None:
        """A reply started in this conversation by another tab or the API."""
        if not self._gone:
            self.message_list.append_exchange(generation)

    def _signed_in(self) -> bool:
        """Checked by every action: the page may have been open since before its session was signed out."""
        if self.parts.access.signed_in(self.session):
            return True
        ui.navigate.to(f"/login?next=/c/{self.conversation_id}" if self.conversation_id else "/login")
        return False

    def _current_id(self) -> str | None:
        return self.conversation_id

    def _path(self) -> str:
        return f"/c/{self.conversation_id}" if self.conversation_id else "/"

    def _on_disconnect(self) -> None:
        # Counted only while a reply is being followed: that is when a lost connection costs the person something.
        self._lost_connection = True
        if self.message_list.following:
            self.service.metrics.disconnects.inc()

    def _on_connect(self) -> None:
        if self._lost_connection and self.message_list.following:
            self.service.metrics.reconnects.inc()
        self._lost_connection = False

    def _forget(self) -> None:
        # The page is gone for good (its tab closed, or away past the reconnect timeout); the reply goes on.
        self._gone = True
        self._unlisten()
        self._unlisten_writing()
        self.message_list.forget()
        if self._unwatch:
            self._unwatch()


def register_pages(
    service: ChatService, models: ModelCatalog, settings: Settings, access: Access, keys: ApiKeys
) -> None:
    serve_static_files()
    drafts = Drafts(settings.max_message_chars)
    drafts.register_route()
    parts = ChatPageParts(service, models, access, keys, drafts, settings.drawer_page_size, settings.max_message_chars)

    @ui.page("/", title="Chat")
    async def new_conversation_page() -> None:
        await models_listed(models)
        ChatPage(parts, None)

    @ui.page("/c/{conversation_id}", title="Chat")
    async def conversation_page(conversation_id: str) -> None:
        await models_listed(models)
        ChatPage(parts, conversation_id)


async def models_listed(models: ModelCatalog) -> None:
    """Right after start-up the providers may still be listing their models: a page waits a moment for them
    rather than offer an empty Model selector (then shows what there is)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(models.ready.wait(), CATALOG_WAIT_SECONDS)
