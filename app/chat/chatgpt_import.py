"""ChatGPT's data export (`conversations.json`), read into conversations of this app, branches and all.

Each ChatGPT conversation is a tree in `mapping`: nodes with a `message` (or none, for the root), a `parent` and
`children`; an edited question or a regenerated answer is a sibling node, and `current_node` is the end of the
branch last shown. Only the person's and the assistant's text is kept: system and tool messages are skipped and
their children hang from the nearest message kept, so every branch survives.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.storage.models import ConversationWithMessages, MessagePublic, Role, Status

ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}


def looks_like_chatgpt_export(data: object) -> bool:
    return isinstance(data, list) and all(isinstance(entry, dict) and "mapping" in entry for entry in data)


def conversations_from_chatgpt(data: list[dict]) -> list[ConversationWithMessages]:
    """The conversations in the file, their messages numbered in the order they were written (the repository
    gives them ids of its own). Raises KeyError, TypeError or ValueError on a damaged file, for the caller to
    refuse it whole."""
    conversations = []
    for entry in data:
        conversation_id = str(entry.get("conversation_id") or entry.get("id") or "")[:64]
        if not conversation_id:
            raise ValueError("a conversation has no id")
        messages, kept = _messages(entry["mapping"])
        conversations.append(
            ConversationWithMessages(
                id=conversation_id,
                title=str(entry.get("title") or "")[:200],
                model=f"openai:{entry['default_model_slug']}" if entry.get("default_model_slug") else "",
                created_at=_time(entry.get("create_time")),
                updated_at=_time(entry.get("update_time")),
                leaf_id=_nearest_kept(entry["mapping"], entry.get("current_node"), kept),
                messages=messages,
            )
        )
    return conversations


def _messages(mapping: dict[str, dict]) -> tuple[list[MessagePublic], dict[str, int]]:
    """Every message with text, parents before children and siblings in the order they were written; and node
    id → message number for the nodes kept."""
    kept: dict[str, int] = {}
    messages: list[MessagePublic] = []
    nodes = sorted(mapping.items(), key=lambda item: (_depth(mapping, item[0]), _created(item[1])))
    for node_id, node in nodes:
        message = node.get("message") or {}
        role = ROLES.get((message.get("author") or {}).get("role"))
        text = _text(message.get("content") or {})
        if role is None or not text.strip():
            continue
        metadata = message.get("metadata") or {}
        number = len(messages) + 1
        messages.append(
            MessagePublic(
                id=number,
                parent_id=_nearest_kept(mapping, node.get("parent"), kept),
                role=role,
                content=text,
                status=Status.COMPLETE,
                model=_model_of(metadata) if role == Role.ASSISTANT else None,
                created_at=_time(message.get("create_time")),
            )
        )
        kept[node_id] = number
    return messages, kept


def _model_of(metadata: dict) -> str | None:
    return f"openai:{metadata['model_slug']}" if metadata.get("model_slug") else None


def _nearest_kept(mapping: dict[str, dict], node_id: str | None, kept: dict[str, int]) -> int | None:
    seen = set()
    while node_id is not None and node_id not in kept and node_id not in seen:
        seen.add(node_id)
        node_id = (mapping.get(node_id) or {}).get("parent")
    return kept.get(node_id) if node_id is not None else None


def _depth(mapping: dict[str, dict], node_id: str) -> int:
    depth, seen = 0, set()
    while (parent := (mapping.get(node_id) or {}).get("parent")) is not None and parent not in seen:
        seen.add(parent)
        node_id, depth = parent, depth + 1
    return depth


def _text(content: dict) -> str:
    # "text" and "multimodal_text" keep their words in `parts`; images and files there are dicts, left out.
    return "\n\n".join(part for part in content.get("parts") or [] if isinstance(part, str))


def _created(node: dict) -> float:
    return float((node.get("message") or {}).get("create_time") or 0)


def _time(stamp: float | None) -> datetime:
    return datetime.fromtimestamp(float(stamp), UTC) if stamp else datetime.now(UTC)
