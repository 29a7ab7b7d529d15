"""A provider at the `Provider` boundary, in-process (like llm's MockModel): it plays scripted replies and records
every request. For the chat service's own logic; the adapters' contract is tested against the wire-level fakes
(tests/fakes/provider_server.py), which the real SDKs talk to."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence

from app.providers.base import Capabilities, ChatRequest, Finish, Provider, StreamEvent, TextDelta

AS_USUAL = Capabilities()
# A step of a scripted reply: an event to yield, an exception to raise, or seconds to stay silent.
Step = StreamEvent | BaseException | float


class ScriptedProvider(Provider):
    id = "scripted"
    label = "Scripted"

    def __init__(
        self,
        capabilities: Capabilities = AS_USUAL,
        models: Sequence[str] = ("model",),
        provider_id: str = "scripted",
        label: str = "Scripted",
    ) -> None:
        super().__init__(models)
        self.capabilities = capabilities
        self.id, self.label = provider_id, label
        self.requests: list[ChatRequest] = []
        self._replies: deque[Sequence[Step]] = deque()

    def script(self, *steps: Step) -> None:
        """The next reply; without a script a reply is "Done." and a normal finish."""
        self._replies.append(steps)

    async def list_models(self) -> list[str]:
        return list(self.pinned_models)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        self.requests.append(request)
        for step in self._replies.popleft() if self._replies else (TextDelta("Done."), Finish("stop")):
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, int | float):
                await asyncio.sleep(step)
                continue
            yield step
