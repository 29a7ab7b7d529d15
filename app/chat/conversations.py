"""The conversations: reading them as shown (the branch on show, a window of it at a time) and managing them
(rename, pin, delete, their settings, presets, versions, export and import). Replies are the other half
(app/chat/replies.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.chat.branches import Version, latest_leaf, path_to, siblings, versions
from app.chat.exchange import Imported, ImportRefused, export_json, export_markdown, import_file
from app.chat.in_flight import RepliesInFlight
from app.chat.refusals import InputRefused, written
from app.listeners import Listeners
from app.providers.base import USUAL_TEMPERATURES
from app.providers.catalog import ModelCatalog
from app.providers.routes import Lineup
from app.storage.models import Conversation, Message, MessageLink, MessagePublic, ToolStep
from app.storage.stores import Storage
from app.text import without_lone_surrogates

MAX_OUTPUT_TOKENS_LIMIT = 1_000_000  # beyond any model's reply: a typo, not a wish
PRESET_NAME_LENGTH = 100


@dataclass(frozen=True)
class ConversationOptions:
    system_prompt: str | None = None
    temperature: float | None = None  # None: the model's default
    max_output_tokens: int | None = None  # None: the server's setting
    tool_sources: frozenset[str] | None = None  # the tool sources offered to the model; None: every one enabled


@dataclass(frozen=True)
class HistoryWindow:
    """Part of a conversation as shown: `messages` (oldest first) end just before where the page asked, and
    `earlier` more come before them."""

    messages: list[Message]
    earlier: int
    versions: dict[int, Version]
    last_id: int | None  # the conversation's last message, wherever the window is
    tool_steps: dict[int, list[ToolStep]] = field(default_factory=dict)  # the replies' tool calls, by message id


def temperature_ok(value: float | None, allowed: tuple[float, float] = USUAL_TEMPERATURES) -> bool:
    """None is the model's default; `allowed` is the range a model takes (0 to 2 for most)."""
    return value is None or allowed[0] <= value <= allowed[1]


def reply_length_ok(value: float | None) -> bool:
    """None is the server's MAX_OUTPUT_TOKENS."""
    return value is None or (float(value).is_integer() and 1 <= value <= MAX_OUTPUT_TOKENS_LIMIT)


def check_options(options: ConversationOptions) -> None:
    if not temperature_ok(options.temperature):
        low, high = USUAL_TEMPERATURES
        raise InputRefused(f"The temperature goes from {low:g} to {high:g}.")
    if not reply_length_ok(options.max_output_tokens):
        raise InputRefused(f"The reply length goes from 1 to {MAX_OUTPUT_TOKENS_LIMIT:,} tokens.")


class Conversations:
    def __init__(self, storage: Storage, in_flight: RepliesInFlight, models: ModelCatalog, history_page: int) -> None:
        self.repository = storage.chats
        self.presets_kept = storage.presets
        self.models = models
        self._in_flight = in_flight
        self._history_page = history_page
        # Told the id of a conversation whose title or place in the list changed outside any page's own action
        # ("" when many did).
        self.changes: Listeners[[str]] = Listeners("the conversation list")

    # -- reading

    def list(self, limit: int | None = 200) -> Sequence[Conversation]:
        return self.repository.list_conversations(limit)

    def get(self, conversation_id: str) -> Conversation | None:
        return self.repository.get_conversation(conversation_id)

    def search(self, typed: str) -> Sequence[Conversation]:
        return self.repository.search_conversations(typed)

    def place_in_list(self, conversation_id: str) -> int | None:
        """Where the conversation is in the drawer's order (0: at the top), None if it does not exist."""
        return self.repository.conversation_position(conversation_id)

    def model_key(self, conversation_id: str) -> str:
        """The conversation's own choice, a model's or a route's key ("" if it has none)."""
        conversation = self.get(conversation_id)
        return conversation.model if conversation else ""

    def model_for(self, conversation_id: str | None, requested: str | None = None) -> Lineup | None:
        """The model (or route) a reply here is written by: the one asked for, else the conversation's own; a new
        chat starts on the one used last (a pinned conversation at the top of the list does not decide)."""
        own = self.model_key(conversation_id) if conversation_id else None
        return self.models.resolve(requested, own, self.repository.last_used_model())

    def messages(self, conversation_id: str) -> list[Message]:
        """The conversation as shown: the branch from its first message to the version chosen last."""
        conversation = self.get(conversation_id)
        if conversation is None:
            return []
        branch = path_to(self.repository.messages(conversation_id), conversation.leaf_id)
        return self._in_flight.with_live_text(conversation_id, branch)

    def messages_with_steps(self, conversation_id: str) -> list[MessagePublic]:
        """The conversation as shown, each reply with its tool calls, as the API gives it."""
        return self.repository.messages_with_steps(self.messages(conversation_id))

    def history(self, conversation_id: str, before: int | None = None, limit: int | None = None) -> HistoryWindow:
        """The last `limit` messages shown before message `before` (the end, if None). Only the tree's links are
        read whole; texts are read for the window alone, so a page of 5,000 messages opens like one of 50."""
        limit = limit or self._history_page
        links, path = self._branch(conversation_id)
        end = next((i for i, link in enumerate(path) if link.id == before), len(path)) if before else len(path)
        window = path[max(0, end - limit) : end]
        texts = self.repository.messages_with_ids([m.id for m in window])
        messages = self._in_flight.with_live_text(conversation_id, texts)
        steps = self.tool_steps(messages)
        last_id = path[-1].id if path else None
        return HistoryWindow(messages, max(0, end - limit), versions(links, window), last_id, steps)

    def tool_steps(self, messages: Sequence[Message]) -> dict[int, list[ToolStep]]:
        """The tool calls of these replies, by message id."""
        return self.repository.steps_of_replies(messages)

    def versions(self, conversation_id: str) -> dict[int, Version]:
        """For each message shown that has other versions (edits, regenerated replies), which one it is."""
        return versions(*self._branch(conversation_id))

    def _branch(self, conversation_id: str) -> tuple[list[MessageLink], list[MessageLink]]:
        """The conversation's tree (its links, no texts) and the branch shown in it; both empty if it is gone."""
        conversation = self.get(conversation_id)
        if conversation is None:
            return [], []
        links = self.repository.message_links(conversation_id)
        return links, path_to(links, conversation.leaf_id)

    def options(self, conversation_id: str | None) -> ConversationOptions:
        conversation = self.get(conversation_id) if conversation_id else None
        if conversation is None:
            return ConversationOptions()
        sources = conversation.tool_sources
        return ConversationOptions(
            conversation.system_prompt,
            conversation.temperature,
            conversation.max_output_tokens,
            frozenset(json.loads(sources)) if sources is not None else None,
        )

    def presets(self) -> dict[str, str]:
        return {preset.name: preset.text for preset in self.presets_kept.presets()}

    def require_idle(self, conversation_id: str) -> None:
        if self.get(conversation_id) is None:
            raise InputRefused("That conversation does not exist.", status=404)
        if self._in_flight.busy(conversation_id):
            raise InputRefused("A reply is still being written here. Wait for it or press Stop.", status=409)

    # -- managing

    async def rename(self, conversation_id: str, title: str) -> None:
        if not title.strip():
            raise InputRefused("A title cannot be empty.")
        await written(self.repository.rename_conversation, conversation_id, title)
        self.changes.notify(conversation_id)  # every tab's drawer and header

    async def pin(self, conversation_id: str, pinned: bool) -> None:
        await written(self.repository.pin_conversation, conversation_id, pinned)

    async def delete(self, conversation_id: str) -> None:
        """Delete a conversation and its messages; a reply still being written there is stopped first."""
        await self._in_flight.stop_and_wait(conversation_id)
        await written(self.repository.delete_conversation, conversation_id)

    async def configure(self, conversation_id: str, options: ConversationOptions) -> None:
        """The conversation's own system prompt, temperature and reply length, used from its next reply on."""
        check_options(options)
        await written(self.store_options, conversation_id, options)

    def store_options(self, conversation_id: str, options: ConversationOptions) -> None:
        """(On a worker thread.) The options, checked before."""
        system_prompt = without_lone_surrogates(options.system_prompt) if options.system_prompt else None
        sources = json.dumps(sorted(options.tool_sources)) if options.tool_sources is not None else None
        self.repository.configure_conversation(
            conversation_id, system_prompt, options.temperature, options.max_output_tokens, sources
        )

    async def switch(self, conversation_id: str, message_id: int, step: int) -> None:
        """Show another version of a message (`step` -1: the one before, +1: the one after) and what followed it."""
        self.require_idle(conversation_id)
        every = self.repository.messages(conversation_id)
        message = next((m for m in every if m.id == message_id), None)
        if message is None:
            raise InputRefused("That message is not in this conversation.", status=404)
        family = siblings(every, message)
        chosen = family[max(0, min(len(family) - 1, family.index(message) + step))]
        await written(self.repository.set_leaf, conversation_id, latest_leaf(every, chosen).id)

    async def save_preset(self, name: str, text: str) -> None:
        if not name.strip() or not text.strip():
            raise InputRefused("A preset needs a name and a system prompt.")
        await written(self.presets_kept.save_preset, name.strip()[:PRESET_NAME_LENGTH], without_lone_surrogates(text))

    async def rename_preset(self, name: str, new_name: str) -> None:
        new_name = new_name.strip()[:PRESET_NAME_LENGTH]
        if not new_name:
            raise InputRefused("A preset needs a name.")
        if new_name != name and new_name in self.presets():
            raise InputRefused(f"There is a preset called “{new_name}” already.")
        await written(self.presets_kept.rename_preset, name, new_name)

    async def delete_preset(self, name: str) -> None:
        await written(self.presets_kept.delete_preset, name)

    def export(self, conversation_id: str | None, as_markdown: bool) -> str:
        """One conversation, or all of them (None), as JSON that imports back exactly or as Markdown to read."""
        ids = [conversation_id] if conversation_id else [c.id for c in self.list(limit=None)]
        return (export_markdown if as_markdown else export_json)(self.repository, ids)

    async def import_file(self, raw: bytes) -> Imported:
        """Conversations from an export of this app or of ChatGPT; refused with a message when the file is neither.
        A file whose every conversation is here already is refused too, saying so."""
        try:
            imported = await written(import_file, self.repository, raw)
        except ImportRefused as refusal:
            raise InputRefused(str(refusal)) from None
        if imported.added == 0:
            if imported.already_here:
                count = imported.already_here
                raise InputRefused(
                    f"All {count} conversation{'s' if count != 1 else ''} in that file are here already."
                )
            raise InputRefused("That file holds no conversations.")
        self.changes.notify("")  # every tab's drawer lists them
        return imported
