"""The replies: sending a message and writing its answer (retry, edit, stop), whoever watches it, and the title a
model writes after the first exchange. Conversations are the other half (app/chat/conversations.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import partial

from app.chat.conversations import ConversationOptions, Conversations, check_options, temperature_ok
from app.chat.generation import Generation, GenerationRunner, Prepare
from app.chat.in_flight import RepliesInFlight
from app.chat.refusals import InputRefused, told_nothing_was_sent, written
from app.chat.titles import title_from_model
from app.chat.tool_calls import Decision, ToolBox, ToolChoice, turns_with_calls
from app.listeners import Listeners
from app.metrics import ChatMetrics
from app.providers.base import ChatRequest, ChatTurn
from app.providers.catalog import ModelOption
from app.providers.routes import ROUTE_PREFIX, Lineup, continued_note
from app.settings import Settings
from app.storage.models import Message, Role, Status, ToolStepBase, ToolStepPublic
from app.storage.reply_writer import ReplyWriter
from app.storage.repository import title_from
from app.text import without_lone_surrogates

CONTEXT_STATUSES = {Status.COMPLETE, Status.STOPPED}
ReplyWatcher = Callable[[Generation], None]
# At shutdown, how long replies cut off get to store their final state before the process goes.
SHUTDOWN_SAVE_SECONDS = 10.0
TITLE_SECONDS = 20
NO_MODEL_HINT = (
    "No model is connected yet: open Connections (in the drawer) to add OpenAI, Anthropic, Together, Gemini, Ollama or "
    "any OpenAI-compatible server, or set their variables where the app starts. Your text is still in the box."
)


# What the next model of a route is told after the failed reply's text, so that it writes on from there.
CONTINUE_PROMPT = (
    "Your reply above was cut off. Continue it from exactly where it stops, as if nothing had happened: do not "
    "repeat any of it and do not mention the interruption."
)
CONTINUE_TURN = ChatTurn(Role.USER.value, CONTINUE_PROMPT)


def clamped(temperature: float | None, allowed: tuple[float, float]) -> float | None:
    return None if temperature is None else min(max(temperature, allowed[0]), allowed[1])


class Replies:
    def __init__(
        self,
        conversations: Conversations,
        in_flight: RepliesInFlight,
        settings: Settings,
        tools: ToolChoice,
        metrics: ChatMetrics,
    ) -> None:
        self.conversations = conversations
        self.settings = settings
        self.tools = tools
        self.repository = conversations.repository
        self.writer = ReplyWriter(self.repository)
        self.runner = GenerationRunner(self.writer, settings, metrics)
        self._in_flight = in_flight
        self._watchers: dict[str, Listeners[[Generation]]] = {}
        # Told when a reply starts (True) or ends (False) in a conversation: a mark in each drawer, nothing more.
        self.writing_changes: Listeners[[str, bool]] = Listeners("replies being written")
        self._background: set[asyncio.Task] = set()

    def active(self, conversation_id: str) -> Generation | None:
        """The reply being written in this conversation, if any: a reloaded page picks it up from here."""
        return self._in_flight.get(conversation_id)

    def is_writing(self, conversation_id: str) -> bool:
        generation = self._in_flight.get(conversation_id)
        return generation is not None and generation.is_running

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

    async def send(
        self,
        conversation_id: str | None,
        text: str,
        model_key: str | None,
        system: str | None = None,
        options: ConversationOptions | None = None,
        can_ask: bool = True,
    ) -> Generation:
        """Store the person's message and start the reply. Creates the conversation on its first message, with
        `options` when given; a `system` prompt given here becomes the conversation's own. `can_ask`: someone
        can answer "run this tool?" (not over the HTTP API). Everything is checked before anything is written: a
        refused first message leaves nothing behind."""
        self._check_text(text)
        lineup = self._lineup(model_key)
        if options is not None:
            check_options(options)
        if conversation_id is not None:
            self.conversations.require_idle(conversation_id)
        self._check_model_takes(lineup.first, options or self.conversations.options(conversation_id))
        repository = self.repository
        with self._in_flight.setting_up(conversation_id), told_nothing_was_sent():
            if conversation_id is None:
                conversation_id = (await written(repository.create_conversation, lineup.key)).id
                if options is not None:
                    await written(self.conversations.store_options, conversation_id, options)
            if system is not None:
                await written(repository.set_system_prompt, conversation_id, without_lone_surrogates(system))
            add = repository.add_message
            prompt = await written(add, conversation_id, Role.USER, text, Status.COMPLETE, lineup.key)
            return await self._start(conversation_id, lineup, prompt, can_ask=can_ask)

    async def retry(self, conversation_id: str, model_key: str | None) -> Generation:
        """Regenerate: ask again for the reply to the last question. The new reply is another version beside the
        old one (failed or not), which stays reachable."""
        self.conversations.require_idle(conversation_id)
        shown = self.conversations.messages(conversation_id)
        question = next((m for m in reversed(shown) if m.role == Role.USER), None)
        if question is None:
            raise InputRefused("There is nothing to retry yet.")
        lineup = self._lineup(model_key)
        self._check_model_takes(lineup.first, self.conversations.options(conversation_id))
        with self._in_flight.setting_up(conversation_id):
            await written(self.repository.set_leaf, conversation_id, question.id)
            return await self._start(conversation_id, lineup, branched=True)

    def next_model(self, conversation_id: str, status: Status, text: str, model_key: str | None) -> ModelOption | None:
        """The model that can continue a reply (by `model_key`) that failed with `text` written: the next one of the
        conversation's route after it. None: nothing to continue, or no route goes on from that model."""
        found = self._route_on(conversation_id, status, text, model_key)
        return found[2] if found else None

    async def continue_with(
        self, conversation_id: str, reply_id: int | None = None, can_ask: bool = True
    ) -> Generation:
        """Continue with <next model>: the failed reply's text, and the conversation before it, go to the next model
        of the route, which writes on from there. The result is a new version of the reply (the failed one stays).
        `reply_id`: the conversation's last message, which must be that reply (None: whichever it is). `can_ask` as
        for `send`."""
        self.conversations.require_idle(conversation_id)
        shown = self.conversations.messages(conversation_id)
        reply = shown[-1] if shown and reply_id in (None, shown[-1].id) else None
        found = self._route_on(conversation_id, reply.status, reply.content, reply.model) if reply else None
        if reply is None or found is None:
            raise InputRefused("That reply cannot be continued by another model.", status=400)
        lineup, failed, model = found
        self.runner.metrics.fell_back(failed.provider.id, model.provider.id)
        why = continued_note(model, failed)
        with self._in_flight.setting_up(conversation_id):
            return await self._start(
                conversation_id, lineup, branched=True, can_ask=can_ask, first=model, continues=reply, why=why
            )

    def _route_on(
        self, conversation_id: str, status: Status, text: str, model_key: str | None
    ) -> tuple[Lineup, ModelOption, ModelOption] | None:
        """For a reply by `model_key` that failed with `text` written: the conversation's lineup, that model in it,
        and the one after it. None: nothing to continue, or nothing comes after that model."""
        if status != Status.ERROR or not text or not model_key:
            return None
        models = self.conversations.models
        lineup, failed = models.lineup(self.conversations.model_key(conversation_id)), models.find(model_key)
        if lineup is None or failed is None or (following := lineup.after(failed)) is None:
            return None
        return lineup, failed, following

    async def edit(self, conversation_id: str, message_id: int, text: str, model_key: str | None) -> Generation:
        """Send an edited version of one of the person's messages: a new branch from there, answered anew."""
        self.conversations.require_idle(conversation_id)
        self._check_text(text)
        original = next((m for m in self.conversations.messages(conversation_id) if m.id == message_id), None)
        if original is None or original.role != Role.USER:
            raise InputRefused("Only your own messages in this conversation can be edited.")
        lineup = self._lineup(model_key)
        self._check_model_takes(lineup.first, self.conversations.options(conversation_id))
        add = self.repository.add_message
        with self._in_flight.setting_up(conversation_id), told_nothing_was_sent():
            prompt = await written(
                add, conversation_id, Role.USER, text, Status.COMPLETE, lineup.key, parent_id=original.parent_id
            )
            return await self._start(conversation_id, lineup, prompt, branched=True)

    def stop(self, conversation_id: str) -> None:
        if generation := self._in_flight.get(conversation_id):
            generation.stop()

    async def shutdown(self) -> None:
        """Cut every reply off (saved as interrupted) and wait for the final saves, for a while: a database that
        stays locked must not keep the process from ending (what was shown is stored already)."""
        for task in list(self._background):
            task.cancel()
        tasks = [g.task for g in self._in_flight.all() if g.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_SAVE_SECONDS)
        await asyncio.to_thread(self.writer.close)

    # -- inside

    def _lineup(self, model_key: str | None) -> Lineup:
        """Who writes the reply for the key chosen: a model, or a route's models that are offered now."""
        models = self.conversations.models
        if not models.options:
            raise InputRefused(NO_MODEL_HINT, status=400)
        lineup = models.lineup(model_key) if model_key else None
        if lineup is not None:
            return lineup
        if not model_key:
            raise InputRefused("Pick a model first.", status=400)
        if model_key.startswith(ROUTE_PREFIX):
            raise InputRefused(
                f"None of the models of the route {model_key.removeprefix(ROUTE_PREFIX)!r} is offered now. Connect "
                "one of them, or pick another model.",
                status=400,
            )
        raise InputRefused(f"The model {model_key!r} is not available. Pick another one.", status=400)

    @staticmethod
    def _check_model_takes(model: ModelOption, options: ConversationOptions) -> None:
        """A temperature the model cannot take is refused, not quietly dropped (one it takes none of is left out,
        as the settings dialog says)."""
        takes = model.provider.capabilities.temperature
        if takes is not None and not temperature_ok(options.temperature, takes):
            raise InputRefused(
                f"{model.label} takes a temperature from {takes[0]:g} to {takes[1]:g}; this conversation's is "
                f"{options.temperature:g}. Change it in Settings, or pick another model. Your text is still in the box."
            )

    def _check_text(self, text: str) -> None:
        if not text.strip():
            raise InputRefused("Type a message first.")
        if len(text) > self.settings.max_message_chars:
            raise InputRefused(
                f"That message has {len(text):,} characters; the limit is {self.settings.max_message_chars:,}. "
                "Nothing was sent, and your text is still in the box."
            )

    async def _start(
        self,
        conversation_id: str,
        lineup: Lineup,
        prompt: Message | None = None,
        branched: bool = False,
        can_ask: bool = True,
        first: ModelOption | None = None,
        continues: Message | None = None,
        why: str | None = None,
    ) -> Generation:
        """Start the reply, written by `first` (else the lineup's first model), on from `continues`' text if given."""
        model = first or lineup.first
        said, steps = (continues.content, self._public_steps(continues)) if continues else ("", ())
        prepare = partial(self._prepared, conversation_id, can_ask, said, steps)
        request, box = prepare(model)
        # The reply's row exists before the provider is called, so a crash at any point leaves a trace.
        add = self.repository.add_message
        parent = {"parent_id": continues.parent_id} if continues else {}
        reply = await written(
            add, conversation_id, Role.ASSISTANT, "", Status.STREAMING, model.key, chosen=lineup.key, **parent
        )
        assert reply.id is not None
        generation = Generation(conversation_id, reply.id, model, prompt, branched, lineup, said, steps)
        generation.calls.box, generation.route_note = box, why
        self._in_flight.add(generation)
        generation.start(lambda started: self._run(started, request, prepare))
        if watchers := self._watchers.get(conversation_id):
            watchers.notify(generation)
        self.writing_changes.notify(conversation_id, True)  # the drawers mark it as being written
        return generation

    async def _run(self, generation: Generation, request: ChatRequest, prepare: Prepare) -> None:
        try:
            await self.runner.run(generation, request, prepare)
        finally:
            self._in_flight.remove(generation)
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
        conversation_id = generation.conversation_id
        messages = self.conversations.messages(conversation_id)
        conversation = self.conversations.get(conversation_id)
        if len(messages) != 2 or conversation is None or conversation.title != title_from(messages[0].content):
            return
        title = await title_from_model(generation.model, messages[0].content, generation.text, timeout=TITLE_SECONDS)
        if title and await asyncio.to_thread(self.repository.retitle, conversation_id, conversation.title, title):
            self.conversations.changes.notify(conversation_id)

    def _prepared(
        self,
        conversation_id: str,
        can_ask: bool,
        continues: str,
        continued_steps: Sequence[ToolStepPublic],
        model: ModelOption,
    ) -> tuple[ChatRequest, ToolBox | None]:
        """What `model` is sent for the next reply here, and the tools it is offered; `continues` and
        `continued_steps`: the text and tool calls of a failed reply it writes on from."""
        options = self.conversations.options(conversation_id)
        takes = model.provider.capabilities
        box = self.tools.box_for(takes.streams_tool_calls, options.tool_sources, can_ask)
        turns = self._turns(conversation_id, takes.streams_tool_calls)
        if continues or continued_steps:
            turns += [*self._said(continues, continued_steps, takes.streams_tool_calls), CONTINUE_TURN]
        request = ChatRequest(
            model=model.model_id,
            turns=turns,
            max_output_tokens=options.max_output_tokens or self.settings.max_output_tokens,
            system=options.system_prompt if takes.system_prompt else None,
            # The conversation's, within what this model takes (a route's next model may take a narrower range).
            temperature=clamped(options.temperature, takes.temperature) if takes.temperature is not None else None,
            tools=box.specs if box is not None else (),
        )
        return request, box

    def _turns(self, conversation_id: str, takes_tools: bool) -> list[ChatTurn]:
        """The conversation as the model is sent it."""
        shown = self.conversations.messages(conversation_id)
        steps = self.conversations.tool_steps(shown) if takes_tools else {}
        turns: list[ChatTurn] = []
        for message in shown:
            if message.role == Role.USER:
                turns.append(ChatTurn(message.role.value, message.content))
            elif message.status in CONTEXT_STATUSES:
                turns.extend(self._said(message.content, steps.get(message.id, ()), takes_tools))
        return turns

    @staticmethod
    def _said(content: str, steps: Sequence[ToolStepBase], takes_tools: bool) -> list[ChatTurn]:
        """A reply as the model is sent it: with its tool calls to a model that can call tools; another model reads
        only its text."""
        if takes_tools and steps:
            return turns_with_calls(content, steps)
        return [ChatTurn(Role.ASSISTANT.value, content)] if content else []

    def _public_steps(self, reply: Message) -> tuple[ToolStepPublic, ...]:
        return tuple(self.repository.messages_with_steps([reply])[0].tool_steps)

    async def decide(self, conversation_id: str, position: int, decision: Decision) -> None:
        """The person's answer to "run this tool call?" for the reply being written here."""
        generation = self._in_flight.get(conversation_id)
        answer = generation.calls.approvals.get(position) if generation is not None else None
        if answer is None or answer.done():
            raise InputRefused("That tool call is no longer waiting for an answer.")
        answer.set_result(decision)
