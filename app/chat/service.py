"""The chat service owns conversations and the registry of replies in flight; pages only ask it and listen."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from app.chat.generation import Generation, GenerationRunner
from app.chat.titles import title_from_model
from app.listeners import Listeners
from app.providers.base import ChatRequest, ChatTurn
from app.providers.catalog import ModelCatalog, ModelOption
from app.settings import Settings
from app.storage.branches import MessageLink, Version, latest_leaf, path_to, siblings, versions
from app.storage.database import failure_reason
from app.storage.exchange import Imported, ImportRefused, export_json, export_markdown, import_file
from app.storage.models import Conversation, Message, Role, Status
from app.storage.reply_writer import ReplyWriter
from app.storage.repository import ChatRepository, title_from
from app.text import without_lone_surrogates

CONTEXT_STATUSES = {Status.COMPLETE, Status.STOPPED}
ReplyWatcher = Callable[[Generation], None]
# At shutdown, how long replies cut off get to store their final state before the process goes.
SHUTDOWN_SAVE_SECONDS = 10.0


@dataclass(frozen=True)
class ConversationOptions:
    system_prompt: str | None = None
    temperature: float | None = None  # None: the model's default
    max_output_tokens: int | None = None  # None: the server's setting


@dataclass(frozen=True)
class HistoryWindow:
    """Part of a conversation as shown: `messages` (oldest first) end just before where the page asked, and
    `earlier` more come before them."""

    messages: list[Message]
    earlier: int
    versions: dict[int, Version]
    last_id: int | None  # the conversation's last message, wherever the window is


class InputRefused(ValueError):
    """A request the person can fix: the message says how; `status` is the HTTP status that fits it."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class StorageFailed(InputRefused):
    """The database would not take a write (locked by another process, disk full): nothing was changed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Could not save ({reason}); nothing was changed. Try again in a moment.", 503)
        self.reason = reason


@contextlib.contextmanager
def _told_nothing_was_sent() -> Iterator[None]:
    """A message that could not be stored says what became of it."""
    try:
        yield
    except StorageFailed as failure:
        message = (
            f"Could not save your message ({failure.reason}). Nothing was sent, and your text is still in the box."
        )
        raise InputRefused(message, 503) from None


NO_MODEL_HINT = (
    "No model is connected yet: open Connections (in the drawer) to add OpenAI, Anthropic, Together, Ollama or "
    "any OpenAI-compatible server, or set their variables where the app starts. Your text is still in the box."
)
MAX_OUTPUT_TOKENS_LIMIT = 1_000_000  # beyond any model's reply: a typo, not a wish


def temperature_ok(value: float | None) -> bool:
    """None is the model's default."""
    return value is None or 0 <= value <= 2


def reply_length_ok(value: float | None) -> bool:
    """None is the server's MAX_OUTPUT_TOKENS."""
    return value is None or (float(value).is_integer() and 1 <= value <= MAX_OUTPUT_TOKENS_LIMIT)


def _check_options(options: ConversationOptions) -> None:
    if not temperature_ok(options.temperature):
        raise InputRefused("The temperature goes from 0 to 2.")
    if not reply_length_ok(options.max_output_tokens):
        raise InputRefused(f"The reply length goes from 1 to {MAX_OUTPUT_TOKENS_LIMIT:,} tokens.")


class ChatService:
    def __init__(self, repository: ChatRepository, catalog: ModelCatalog, settings: Settings) -> None:
        self.repository = repository
        self.catalog = catalog
        self.settings = settings
        self.writer = ReplyWriter(repository)
        self.runner = GenerationRunner(self.writer, settings)
        self._generations: dict[str, Generation] = {}
        self._starting: set[str] = set()  # conversations whose next reply is being set up (its rows written)
        self._watchers: dict[str, Listeners[[Generation]]] = {}
        # Told the id of a conversation whose title or place in the list changed outside any page's own action.
        self.conversation_changes: Listeners[[str]] = Listeners("the conversation list")
        # Told when a reply starts (True) or ends (False) in a conversation: a mark in each drawer, nothing more.
        self.writing_changes: Listeners[[str, bool]] = Listeners("replies being written")
        self._background: set[asyncio.Task] = set()

    # -- reading

    def conversations(self, limit: int | None = 200) -> Sequence[Conversation]:
        return self.repository.list_conversations(limit)

    def last_used_model(self) -> str | None:
        return self.repository.last_used_model()

    def place_in_list(self, conversation_id: str) -> int | None:
        """Where the conversation is in the drawer's order (0: at the top), None if it does not exist."""
        return self.repository.conversation_position(conversation_id)

    def is_writing(self, conversation_id: str) -> bool:
        generation = self._generations.get(conversation_id)
        return generation is not None and generation.is_running

    def conversation(self, conversation_id: str) -> Conversation | None:
        return self.repository.get_conversation(conversation_id)

    def messages(self, conversation_id: str) -> Sequence[Message]:
        """The conversation as shown: the branch from its first message to the version chosen last."""
        conversation = self.repository.get_conversation(conversation_id)
        if conversation is None:
            return []
        return self._with_live_text(
            conversation_id, path_to(self.repository.messages(conversation_id), conversation.leaf_id)
        )

    def history(self, conversation_id: str, before: int | None = None, limit: int | None = None) -> HistoryWindow:
        """The last `limit` messages shown before message `before` (the end, if None). Only the tree's links are
        read whole; texts are read for the window alone, so a page of 5,000 messages opens like one of 50."""
        limit = limit or self.settings.history_page_size
        links, path = self._branch(conversation_id)
        end = next((i for i, link in enumerate(path) if link.id == before), len(path)) if before else len(path)
        window = path[max(0, end - limit) : end]
        messages = self._with_live_text(conversation_id, self.repository.messages_with_ids([m.id for m in window]))
        return HistoryWindow(messages, max(0, end - limit), versions(links, window), path[-1].id if path else None)

    def versions(self, conversation_id: str) -> dict[int, Version]:
        """For each message shown that has other versions (edits, regenerated replies), which one it is."""
        return versions(*self._branch(conversation_id))

    def _branch(self, conversation_id: str) -> tuple[list[MessageLink], list[MessageLink]]:
        """The conversation's tree (its links, no texts) and the branch shown in it; both empty if it is gone."""
        conversation = self.repository.get_conversation(conversation_id)
        if conversation is None:
            return [], []
        links = self.repository.message_links(conversation_id)
        return links, path_to(links, conversation.leaf_id)

    def _with_live_text(self, conversation_id: str, messages: list[Message]) -> list[Message]:
        """The messages, the reply being written among them showing what is stored of it (it lives in pieces)."""
        if (live := self._generations.get(conversation_id)) is not None:
            for message in messages:
                if message.id == live.message_id:
                    message.content = live.text
        return messages

    def search(self, typed: str) -> Sequence[Conversation]:
        return self.repository.search_conversations(typed)

    def active(self, conversation_id: str) -> Generation | None:
        """The reply being written in this conversation, if any: a reloaded page picks it up from here."""
        return self._generations.get(conversation_id)

    def watch(self, conversation_id: str, watcher: ReplyWatcher) -> Callable[[], None]:
        """Call `watcher(generation)` whenever a reply starts in this conversation, whoever started it; every open
        page of the conversation shows it. Returns the function that stops watching."""
        watchers = self._watchers.setdefault(conversation_id, Listeners(f"conversation {conversation_id}"))
        remove = watchers.add(watcher)

        def unwatch() -> None:
            remove()
            if not watchers:
                self._watchers.pop(conversation_id, None)

        return unwatch

    # -- acting

    async def send(
        self,
        conversation_id: str | None,
        text: str,
        model_key: str,
        system: str | None = None,
        options: ConversationOptions | None = None,
    ) -> Generation:
        """Store the person's message and start the reply. Creates the conversation on its first message, with
        `options` when given; a `system` prompt given here becomes the conversation's own. Everything is checked
        before anything is written: a refused first message leaves nothing behind."""
        self._check_text(text)
        model = self._model(model_key)
        if options is not None:
            _check_options(options)
        if conversation_id is not None:
            self._require_idle(conversation_id)
        with self._setting_up(conversation_id), _told_nothing_was_sent():
            if conversation_id is None:
                conversation_id = (await self._write(self.repository.create_conversation, model.key)).id
                if options is not None:
                    await self._write(self._store_options, conversation_id, options)
            if system is not None:
                await self._write(self.repository.set_system_prompt, conversation_id, without_lone_surrogates(system))
            add = self.repository.add_message
            prompt = await self._write(add, conversation_id, Role.USER, text, Status.COMPLETE, model.key)
            return await self._start_reply(conversation_id, model, prompt)

    async def retry(self, conversation_id: str, model_key: str) -> Generation:
        """Regenerate: ask again for the reply to the last question. The new reply is another version beside the
        old one (failed or not), which stays reachable."""
        self._require_idle(conversation_id)
        question = next((m for m in reversed(self.messages(conversation_id)) if m.role == Role.USER), None)
        if question is None:
            raise InputRefused("There is nothing to retry yet.")
        model = self._model(model_key)
        with self._setting_up(conversation_id):
            await self._write(self.repository.set_leaf, conversation_id, question.id)
            return await self._start_reply(conversation_id, model, branched=True)

    async def edit(self, conversation_id: str, message_id: int, text: str, model_key: str) -> Generation:
        """Send an edited version of one of the person's messages: a new branch from there, answered anew."""
        self._require_idle(conversation_id)
        self._check_text(text)
        original = next((m for m in self.messages(conversation_id) if m.id == message_id), None)
        if original is None or original.role != Role.USER:
            raise InputRefused("Only your own messages in this conversation can be edited.")
        model = self._model(model_key)
        with self._setting_up(conversation_id), _told_nothing_was_sent():
            prompt = await self._write(
                self.repository.add_message,
                conversation_id,
                Role.USER,
                text,
                Status.COMPLETE,
                model.key,
                parent_id=original.parent_id,
            )
            return await self._start_reply(conversation_id, model, prompt, branched=True)

    async def switch(self, conversation_id: str, message_id: int, step: int) -> None:
        """Show another version of a message (`step` -1: the one before, +1: the one after) and what followed it."""
        self._require_idle(conversation_id)
        every = self.repository.messages(conversation_id)
        message = next((m for m in every if m.id == message_id), None)
        if message is None:
            raise InputRefused("That message is not in this conversation.", status=404)
        family = siblings(every, message)
        chosen = family[max(0, min(len(family) - 1, family.index(message) + step))]
        await self._write(self.repository.set_leaf, conversation_id, latest_leaf(every, chosen).id)

    def stop(self, conversation_id: str) -> None:
        if generation := self._generations.get(conversation_id):
            generation.stop()

    async def configure(self, conversation_id: str, options: ConversationOptions) -> None:
        """The conversation's own system prompt, temperature and reply length, used from its next reply on."""
        _check_options(options)
        await self._write(self._store_options, conversation_id, options)

    def _store_options(self, conversation_id: str, options: ConversationOptions) -> None:
        system_prompt = without_lone_surrogates(options.system_prompt) if options.system_prompt else None
        self.repository.configure_conversation(
            conversation_id, system_prompt, options.temperature, options.max_output_tokens
        )

    def options(self, conversation_id: str | None) -> ConversationOptions:
        conversation = self.repository.get_conversation(conversation_id) if conversation_id else None
        if conversation is None:
            return ConversationOptions()
        return ConversationOptions(conversation.system_prompt, conversation.temperature, conversation.max_output_tokens)

    def presets(self) -> dict[str, str]:
        return {preset.name: preset.text for preset in self.repository.presets()}

    async def save_preset(self, name: str, text: str) -> None:
        if not name.strip() or not text.strip():
            raise InputRefused("A preset needs a name and a system prompt.")
        await self._write(self.repository.save_preset, name.strip()[:100], without_lone_surrogates(text))

    async def rename_preset(self, name: str, new_name: str) -> None:
        new_name = new_name.strip()[:100]
        if not new_name:
            raise InputRefused("A preset needs a name.")
        if new_name != name and new_name in self.presets():
            raise InputRefused(f"There is a preset called “{new_name}” already.")
        await self._write(self.repository.rename_preset, name, new_name)

    async def delete_preset(self, name: str) -> None:
        await self._write(self.repository.delete_preset, name)

    async def rename(self, conversation_id: str, title: str) -> None:
        if not title.strip():
            raise InputRefused("A title cannot be empty.")
        await self._write(self.repository.rename_conversation, conversation_id, title)
        self.conversation_changes.notify(conversation_id)  # every tab's drawer and header

    async def pin(self, conversation_id: str, pinned: bool) -> None:
        await self._write(self.repository.pin_conversation, conversation_id, pinned)

    async def delete(self, conversation_id: str) -> None:
        """Delete a conversation and its messages; a reply still being written there is stopped first."""
        if generation := self._generations.get(conversation_id):
            generation.stop()
            await asyncio.gather(generation.wait(), return_exceptions=True)
        await self._write(self.repository.delete_conversation, conversation_id)

    def export(self, conversation_id: str | None, as_markdown: bool) -> str:
        """One conversation, or all of them (None), as JSON that imports back exactly or as Markdown to read."""
        ids = [conversation_id] if conversation_id else [c.id for c in self.repository.list_conversations(limit=None)]
        return (export_markdown if as_markdown else export_json)(self.repository, ids)

    async def import_conversations(self, raw: bytes) -> Imported:
        """Conversations from an export of this app or of ChatGPT; refused with a message when the file is neither.
        A file whose every conversation is here already is refused too, saying so."""
        try:
            imported = await self._write(import_file, self.repository, raw)
        except ImportRefused as refusal:
            raise InputRefused(str(refusal)) from None
        if imported.added == 0:
            if imported.already_here:
                count = imported.already_here
                raise InputRefused(
                    f"All {count} conversation{'s' if count != 1 else ''} in that file are here already."
                )
            raise InputRefused("That file holds no conversations.")
        self.conversation_changes.notify("")  # every tab's drawer lists them
        return imported

    async def shutdown(self) -> None:
        """Cut every reply off (saved as interrupted) and wait for the final saves, for a while: a database that
        stays locked must not keep the process from ending (what was shown is stored already)."""
        for task in list(self._background):
            task.cancel()
        tasks = [g.task for g in self._generations.values() if g.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_SAVE_SECONDS)
        await asyncio.to_thread(self.writer.close)

    # -- inside

    def _model(self, model_key: str | None) -> ModelOption:
        if not self.catalog.options:
            raise InputRefused(NO_MODEL_HINT, status=400)
        model = self.catalog.find(model_key) if model_key else None
        if model is None:
            raise InputRefused(
                f"The model {model_key!r} is not available. Pick another one." if model_key else "Pick a model first.",
                status=400,
            )
        return model

    def _require_idle(self, conversation_id: str) -> None:
        if self.repository.get_conversation(conversation_id) is None:
            raise InputRefused("That conversation does not exist.", status=404)
        if conversation_id in self._generations or conversation_id in self._starting:
            raise InputRefused("A reply is still being written here. Wait for it or press Stop.", status=409)

    @contextlib.contextmanager
    def _setting_up(self, conversation_id: str | None) -> Iterator[None]:
        """While a reply's rows are written (off the event loop), a second send to the conversation is refused."""
        if conversation_id is not None:
            self._starting.add(conversation_id)
        try:
            yield
        finally:
            self._starting.discard(conversation_id)

    async def _write(self, write: Callable, *args: object, **kwargs: object):
        """A database write, on a worker thread: a locked or slow database must not stall every page and stream.
        A failure the person can retry is said in words."""
        try:
            return await asyncio.to_thread(write, *args, **kwargs)
        except (SQLAlchemyError, OSError) as error:
            raise StorageFailed(failure_reason(error)) from None

    def _check_text(self, text: str) -> None:
        if not text.strip():
            raise InputRefused("Type a message first.")
        if len(text) > self.settings.max_message_chars:
            raise InputRefused(
                f"That message has {len(text):,} characters; the limit is {self.settings.max_message_chars:,}. "
                "Nothing was sent, and your text is still in the box."
            )

    async def _start_reply(
        self, conversation_id: str, model: ModelOption, prompt: Message | None = None, branched: bool = False
    ) -> Generation:
        # The reply's row exists before the provider is called, so a crash at any point leaves a trace.
        request = self._request_for(conversation_id, model)
        add = self.repository.add_message
        reply = await self._write(add, conversation_id, Role.ASSISTANT, "", Status.STREAMING, model.key)
        assert reply.id is not None
        generation = Generation(conversation_id, reply.id, model, prompt, branched)
        self._generations[conversation_id] = generation
        generation.start(lambda started: self._run(started, request))
        if watchers := self._watchers.get(conversation_id):
            watchers.notify(generation)
        self.writing_changes.notify(conversation_id, True)  # the drawers mark it as being written
        return generation

    async def _run(self, generation: Generation, request: ChatRequest) -> None:
        try:
            await self.runner.run(generation, request)
        finally:
            self._generations.pop(generation.conversation_id, None)
            self.writing_changes.notify(generation.conversation_id, False)
        if (
            generation.status == Status.COMPLETE
            and self.settings.auto_title
            and generation.model.provider.writes_titles
        ):
            # A task of its own: waiting for the reply must not mean waiting for its title.
            task = asyncio.get_running_loop().create_task(self._title_first_exchange(generation))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _title_first_exchange(self, generation: Generation) -> None:
        """Replace the first words of the first message, the title so far, with one the model writes."""
        messages = self.messages(generation.conversation_id)
        conversation = self.repository.get_conversation(generation.conversation_id)
        if len(messages) != 2 or conversation is None or conversation.title != title_from(messages[0].content):
            return
        title = await title_from_model(generation.model, messages[0].content, generation.text, timeout=20)
        if title and await asyncio.to_thread(
            self.repository.retitle, generation.conversation_id, conversation.title, title
        ):
            self.conversation_changes.notify(generation.conversation_id)

    def _request_for(self, conversation_id: str, model: ModelOption) -> ChatRequest:
        turns = [
            ChatTurn(message.role.value, message.content)
            for message in self.messages(conversation_id)
            if message.role == Role.USER or (message.status in CONTEXT_STATUSES and message.content)
        ]
        options = self.options(conversation_id)
        return ChatRequest(
            model=model.model_id,
            turns=turns,
            max_output_tokens=options.max_output_tokens or self.settings.max_output_tokens,
            system=options.system_prompt,
            temperature=options.temperature,
        )
