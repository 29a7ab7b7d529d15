"""Conversations out and back in: JSON that restores them exactly, and Markdown for people to read."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.chat.branches import path_to
from app.storage.chatgpt_import import import_chatgpt, looks_like_chatgpt_export
from app.storage.models import Conversation, Message
from app.storage.repository import ChatRepository

FORMAT = "llm-chat"
VERSION = 1
CONVERSATION_FIELDS = (
    "id",
    "title",
    "model",
    "system_prompt",
    "temperature",
    "max_output_tokens",
    "pinned_at",
    "leaf_id",
    "created_at",
    "updated_at",
)
MESSAGE_FIELDS = (
    "id",
    "parent_id",
    "role",
    "content",
    "status",
    "error",
    "model",
    "finish_reason",
    "input_tokens",
    "output_tokens",
    "note",
    "first_token_ms",
    "duration_ms",
    "created_at",
    "updated_at",
)


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
        with Session(repository.engine) as session:
            try:
                added = import_chatgpt(session, data)
                session.commit()
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                session.rollback()
                raise ImportRefused(f"That ChatGPT export is damaged: {error}. Nothing was imported.") from None
        return Imported(added, len(data) - added)
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
    conversations = []
    for conversation, messages in _conversations(repository, conversation_ids):
        entry = {name: _plain(getattr(conversation, name)) for name in CONVERSATION_FIELDS}
        entry["messages"] = [{name: _plain(getattr(message, name)) for name in MESSAGE_FIELDS} for message in messages]
        conversations.append(entry)
    return json.dumps({"format": FORMAT, "version": VERSION, "conversations": conversations}, ensure_ascii=False)


def export_markdown(repository: ChatRepository, conversation_ids: list[str]) -> str:
    """Each conversation as it is shown: the chosen version of every message (the JSON export has them all)."""
    parts = []
    for conversation, every in _conversations(repository, conversation_ids):
        messages = path_to(every, conversation.leaf_id)
        parts.append(f"# {conversation.title or 'New conversation'}\n")
        if conversation.system_prompt:
            parts.append(f"*System prompt:* {conversation.system_prompt}\n")
        for message in messages:
            who = "You" if message.role.value == "user" else f"Assistant ({message.model or 'unknown model'})"
            status = "" if message.status.value == "complete" else f" — *{message.status.value}*"
            parts.append(f"## {who}{status}\n\n{message.content}\n")
            if message.error:
                parts.append(f"> Error: {message.error}\n")
    return "\n".join(parts)


def import_json(repository: ChatRepository, raw: bytes | str | dict) -> int:
    """Add the exported conversations; one whose id is already here is skipped. Returns how many were added."""
    data = _parsed(raw)
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("conversations"), list):
        raise ImportRefused("That file is not a conversation export of this app or of ChatGPT.")
    added = 0
    with Session(repository.engine) as session:
        try:
            for entry in data["conversations"]:
                if session.get(Conversation, entry["id"]) is not None:
                    continue
                conversation = Conversation.model_validate({n: entry.get(n) for n in CONVERSATION_FIELDS})
                session.add(conversation)
                session.flush()  # the conversation exists before its messages point at it
                new_ids = _add_messages(session, entry["id"], entry.get("messages", []))
                conversation.leaf_id = new_ids.get(entry.get("leaf_id"))
                added += 1
            session.commit()
        except (KeyError, TypeError, ValueError) as error:
            session.rollback()
            raise ImportRefused(f"That export is damaged: {error}. Nothing was imported.") from None
    return added


def _add_messages(session: Session, conversation_id: str, messages: list[dict]) -> dict[int, int]:
    """Add the messages, keeping their ids where this database has them free; returns old id → new id, so
    parents and the conversation's leaf still point at the right messages."""
    new_ids: dict[int, int] = {}
    for message in sorted(messages, key=lambda m: m.get("id") or 0):
        fields = {n: message.get(n) for n in MESSAGE_FIELDS if message.get(n) is not None}
        old_id = fields.pop("id", None)
        if old_id is not None and session.get(Message, old_id) is None:
            fields["id"] = old_id
        fields["parent_id"] = new_ids.get(fields.get("parent_id"))
        row = Message.model_validate({**fields, "conversation_id": conversation_id})
        session.add(row)
        session.flush()
        if old_id is not None:
            new_ids[old_id] = row.id
    return new_ids


def _conversations(
    repository: ChatRepository, conversation_ids: list[str]
) -> Iterator[tuple[Conversation, Sequence[Message]]]:
    for conversation_id in conversation_ids:
        if (conversation := repository.get_conversation(conversation_id)) is not None:
            yield conversation, repository.messages(conversation_id)


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return getattr(value, "value", value)  # enums as their stored value
