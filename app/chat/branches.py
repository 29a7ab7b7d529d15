"""A conversation is a tree: an edited question or a regenerated reply is a sibling of the one it replaces, and the
conversation shown is the path from the first message to the chosen leaf."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from app.storage.models import Message, Role


class Linked(Protocol):
    """What the branch logic reads of a message: a whole Message, or only its MessageLink."""

    id: int | None
    parent_id: int | None
    role: Role


@dataclass(frozen=True)
class Version:
    """Which of its versions a message is: `index` (from 1) of `count`."""

    index: int
    count: int


M = TypeVar("M", bound=Linked)


def path_to(messages: Sequence[M], leaf_id: int | None) -> list[M]:
    """The messages from the first to `leaf_id`, following parents."""
    by_id = {message.id: message for message in messages}
    path: list[Message] = []
    current = by_id.get(leaf_id) if leaf_id is not None else None
    while current is not None:
        path.append(current)
        current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return path[::-1]


def siblings(messages: Sequence[Message], message: Message) -> list[Message]:
    """The versions of `message`, oldest first: the messages with the same parent and role."""
    return sorted(
        (m for m in messages if m.parent_id == message.parent_id and m.role == message.role),
        key=lambda m: m.id or 0,
    )


def latest_leaf(messages: Sequence[Message], message: Message) -> Message:
    """The end of the newest line that goes on from `message`: what that version last led to."""
    children: dict[int | None, list[Message]] = {}
    for candidate in messages:
        children.setdefault(candidate.parent_id, []).append(candidate)
    current = message
    while followers := children.get(current.id):
        current = max(followers, key=lambda m: m.id or 0)
    return current


def versions(messages: Sequence[Linked], path: Sequence[Linked]) -> dict[int, Version]:
    """For each message on the path that has other versions, which one it is. One pass over the conversation,
    whatever the length of the path: a conversation of thousands of messages opens as fast as a short one."""
    families: dict[tuple[int | None, Role], list[int]] = {}
    for message in sorted(messages, key=lambda m: m.id or 0):
        families.setdefault((message.parent_id, message.role), []).append(message.id)
    shown: dict[int, Version] = {}
    for message in path:
        family = families.get((message.parent_id, message.role), [])
        if len(family) > 1:
            shown[message.id] = Version(family.index(message.id) + 1, len(family))
    return shown
