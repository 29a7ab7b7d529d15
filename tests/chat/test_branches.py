"""A conversation is a tree (app/chat/branches.py): the branch shown, the versions of a message, and where each
version's line ends."""

from __future__ import annotations

import pytest

from app.chat.branches import Version, latest_leaf, path_to, siblings, versions
from app.storage.models import Message, Role

# The tree, as (id, parent, role): a question asked twice (1, 4), the first answered twice (2, 3), and a follow-up
# after the second answer (5 → 6).
TREE = [
    (1, None, "user"),
    (2, 1, "assistant"),
    (3, 1, "assistant"),
    (4, None, "user"),
    (5, 3, "user"),
    (6, 5, "assistant"),
]


def tree() -> list[Message]:
    return [Message(id=i, parent_id=parent, role=Role(role), conversation_id="c") for i, parent, role in TREE]


@pytest.mark.parametrize(
    ("leaf", "path"),
    [(6, [1, 3, 5, 6]), (2, [1, 2]), (4, [4]), (None, []), (99, [])],
)
def test_the_branch_shown_is_the_path_from_the_first_message_to_the_leaf(leaf, path):
    assert [m.id for m in path_to(tree(), leaf)] == path


@pytest.mark.parametrize(
    ("message", "family"),
    [(2, [2, 3]), (3, [2, 3]), (1, [1, 4]), (6, [6])],
)
def test_versions_of_a_message_share_its_parent_and_role(message, family):
    messages = tree()
    chosen = next(m for m in messages if m.id == message)

    assert [m.id for m in siblings(messages, chosen)] == family


@pytest.mark.parametrize(("version", "leaf"), [(3, 6), (2, 2), (1, 6), (4, 4)])
def test_switching_to_a_version_shows_the_newest_line_that_goes_on_from_it(version, leaf):
    messages = tree()

    assert latest_leaf(messages, next(m for m in messages if m.id == version)).id == leaf


def test_each_message_shown_that_has_other_versions_says_which_it_is():
    messages = tree()

    shown = versions(messages, path_to(messages, 6))

    assert shown == {1: Version(1, 2), 3: Version(2, 2)}
