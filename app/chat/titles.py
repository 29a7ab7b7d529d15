"""A short title for a new conversation, written by its own model from the first exchange."""

from __future__ import annotations

import asyncio
import re

from app.providers.base import ChatRequest, ChatTurn, TextDelta
from app.providers.catalog import ModelOption

TITLE_PROMPT = (
    "Write a title of at most six words for the conversation below. Answer with the title only: no quotes, no "
    "punctuation at the end, in the language of the conversation.\n\n"
    "Person: {question}\n\nAssistant: {answer}"
)
LONGEST_TITLE = 60


async def title_from_model(model: ModelOption, question: str, answer: str, timeout: float) -> str | None:
    """The model's title for this exchange, or None when it fails, takes too long or writes nothing usable."""
    prompt = TITLE_PROMPT.format(question=question[:2000], answer=answer[:2000])
    request = ChatRequest(model.model_id, [ChatTurn("user", prompt)], max_output_tokens=24, temperature=0.2)

    async def collect() -> str:
        pieces = [event.text async for event in model.provider.stream(request) if isinstance(event, TextDelta)]
        return "".join(pieces)

    try:
        return clean_title(await asyncio.wait_for(collect(), timeout))
    except Exception:  # a title is a nicety: the first words of the message stay instead
        return None


def clean_title(raw: str) -> str | None:
    """The first line, without markdown, quotes, a "Title:" label or a trailing full stop."""
    line = next((line for line in raw.splitlines() if line.strip()), "")
    line = re.sub(r"^\s*(title\s*:\s*)", "", line, flags=re.IGNORECASE)
    line = line.strip().strip("#*_`\"'“”‘’").strip().rstrip(".")
    line = " ".join(line.split())
    if not line:
        return None
    return line if len(line) <= LONGEST_TITLE else line[: LONGEST_TITLE - 1].rstrip() + "…"
