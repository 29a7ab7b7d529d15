"""Conversations out and back in: JSON that restores them exactly, and Markdown for people to read. The JSON is
the public read models' (ConversationWithMessages); the repository does the reading and the writing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pydantic import ValidationError

from app.chat.branches import path_to
from app.chat.chatgpt_import import conversations_from_chatgpt, looks_like_chatgpt_export
from app.storage.models import ConversationWithMessages, MessagePublic, Role, Status, ToolStepPublic
from app.storage.repository import ChatRepository

FORMAT = "llm-chat"
VERSION = 1


class ImportRefused(ValueError):
    """The file is not an export of this app, or is damaged: the message says which."""


@dataclass(frozen=True)
class Imported:
    added: int
    already_here: int  # in the file, and skipped: a conversation with its id exists


def import_file(repository: ChatRepository, raw: bytes | str) -> Imported:
    """An export of this app or ChatGPT's `conversations.json`, whichever the file is."""
    data = _parsed(raw)
    if looks_like_chatgpt_export(data):
        try:
            conversations = conversations_from_chatgpt(data)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ImportRefused(f"That ChatGPT export is damaged: {error}. Nothing was imported.") from None
        added = repository.add_conversations(conversations, keep_ids=False)
        return Imported(added, len(conversations) - added)
    added = import_json(repository, data)
    return Imported(added, len(data["conversations"]) - added)


def _parsed(raw: bytes | str | dict | list) -> object:
    if isinstance(raw, (dict, list)):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ImportRefused(f"That file is not JSON ({error}).") from None


def export_json(repository: ChatRepository, conversation_ids: list[str]) -> str:
    conversations = [
        exported.model_dump(mode="json")
        for conversation_id in conversation_ids
        if (exported := repository.conversation_with_messages(conversation_id)) is not None
    ]
    return json.dumps({"format": FORMAT, "version": VERSION, "conversations": conversations}, ensure_ascii=False)


def export_markdown(repository: ChatRepository, conversation_ids: list[str]) -> str:
    """Each conversation as it is shown: the chosen version of every message (the JSON export has them all)."""
    parts = []
    for conversation_id in conversation_ids:
        if (conversation := repository.conversation_with_messages(conversation_id)) is None:
            continue
        parts.append(f"# {conversation.title or 'New conversation'}\n")
        if conversation.system_prompt:
            parts.append(f"*System prompt:* {conversation.system_prompt}\n")
        parts.extend(_message_markdown(m) for m in path_to(conversation.messages, conversation.leaf_id))
    return "\n".join(parts)


def _message_markdown(message: MessagePublic) -> str:
    who = "You" if message.role == Role.USER else f"Assistant ({message.model or 'unknown model'})"
    status = "" if message.status == Status.COMPLETE else f" — *{message.status.value}*"
    parts = [f"## {who}{status}\n\n{message.content}\n", *map(_tool_step_markdown, message.tool_steps)]
    if message.error:
        parts.append(f"> Error: {message.error}\n")
    return "\n".join(parts)


def _tool_step_markdown(step: ToolStepPublic) -> str:
    """A call as a reader wants it: which tool, how it ended, its arguments and result as code (never markup)."""
    where = f" ({step.source})" if step.source else ""
    runs = re.findall(r"`+", step.arguments + (step.result or ""))
    fence = "`" * max([3, *(len(run) + 1 for run in runs)])  # longer than any run of backticks inside
    result = f"\n{fence}text\n{step.result}\n{fence}\n" if step.result is not None else ""
    return f"*Tool call: `{step.tool}`{where}, {step.status.value}*\n\n{fence}json\n{step.arguments}\n{fence}\n{result}"


def import_json(repository: ChatRepository, raw: bytes | str | dict) -> int:
    """Add the exported conversations; one whose id is already here is skipped. Returns how many were added."""
    data = _parsed(raw)
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("conversations"), list):
        raise ImportRefused("That file is not a conversation export of this app or of ChatGPT.")
    try:
        conversations = [ConversationWithMessages.model_validate(entry) for entry in data["conversations"]]
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise ImportRefused(f"That export is damaged: {where}: {problem['msg']}. Nothing was imported.") from None
    return repository.add_conversations(conversations, keep_ids=True)
