"""ChatGPT's data export (`conversations.json`), read into conversations of this app, branches and all.

Each ChatGPT conversation is a tree in `mapping`: nodes with a `message` (or none, for the root), a `parent` and
`children`; an edited question or a regenerated answer is a sibling node, and `current_node` is the end of the
branch last shown. Only the person's and the assistant's text is kept: system and tool messages are skipped and
their children hang from the nearest message kept, so every branch survives.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from app.storage.models import Conversation, Message, Role, Status

ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}


def looks_like_chatgpt_export(data: object) -> bool:
    return isinstance(data, list) and all(isinstance(entry, dict) and "mapping" in entry for entry in data)


def import_chatgpt(session: Session, data: list[dict]) -> int:
    """Add the conversations not here yet (by ChatGPT's id); returns how many were added. Raises KeyError,
    TypeError or ValueError on a damaged file, for the caller to refuse it whole."""
    added = 0
    for entry in data:
        conversation_id = str(entry.get("conversation_id") or entry.get("id") or "")[:64]
        if not conversation_id:
            raise ValueError("a conversation has no id")
        if session.get(Conversation, conversation_id) is not None:
            continue
        model = f"openai:{entry['default_model_slug']}" if entry.get("default_model_slug") else ""
        conversation = Conversation(
            id=conversation_id,
            title=str(entry.get("title") or "")[:200],
            model=model,
            created_at=_time(entry.get("create_time")),
            updated_at=_time(entry.get("update_time")),
        )
        session.add(conversation)
        session.flush()
        kept = _add_tree(session, conversation_id, entry["mapping"])
        conversation.leaf_id = _nearest_kept(entry["mapping"], entry.get("current_node"), kept)
        added += 1
    return added


def _add_tree(session: Session, conversation_id: str, mapping: dict[str, dict]) -> dict[str, int]:
    """Every message with text, parents before children and siblings in the order they were written; returns
    node id → message id for the nodes kept."""
    kept: dict[str, int] = {}
    nodes = sorted(mapping.items(), key=lambda item: (_depth(mapping, item[0]), _created(item[1])))
    for node_id, node in nodes:
        message = node.get("message") or {}
        role = ROLES.get((message.get("author") or {}).get("role"))
        text = _text(message.get("content") or {})
        if role is None or not text.strip():
            continue
        metadata = message.get("metadata") or {}
        row = Message(
            conversation_id=conversation_id,
            parent_id=_nearest_kept(mapping, node.get("parent"), kept),
            role=role,
            content=text,
            status=Status.COMPLETE,
            model=f"openai:{metadata['model_slug']}" if role == Role.ASSISTANT and metadata.get("model_slug") else None,
            created_at=_time(message.get("create_time")),
        )
        session.add(row)
        session.flush()
        kept[node_id] = row.id
    return kept


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
