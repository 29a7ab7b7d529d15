"""Moving from ChatGPT: its data export's conversations.json comes in with its branches, and says what it did."""

from __future__ import annotations

import json

import pytest

from app.chat.branches import path_to, versions
from app.chat.refusals import InputRefused


def node(node_id, parent, role=None, text=None, created=0.0, children=(), model=None, parts=None):
    message = None
    if role is not None:
        message = {
            "id": node_id,
            "author": {"role": role},
            "create_time": created,
            "content": {"content_type": "text", "parts": parts if parts is not None else [text]},
            "metadata": {"model_slug": model} if model else {},
            "status": "finished_successfully",
        }
    return node_id, {"id": node_id, "message": message, "parent": parent, "children": list(children)}


def chatgpt_export() -> list[dict]:
    """One conversation as ChatGPT exports it: a root, a system message, a question asked twice (edited), an
    answer to each, a tool call in between, and the edited branch as the one last shown."""
    mapping = dict(
        [
            node("root", None, children=["sys"]),
            node("sys", "root", "system", "You are ChatGPT.", 1.0, ["q1", "q2"]),
            node("q1", "sys", "user", "How long does dough rest?", 2.0, ["a1"]),
            node("a1", "q1", "assistant", "About an hour.", 3.0, model="gpt-4o"),
            node("q2", "sys", "user", "How long does sourdough rest?", 4.0, ["tool"]),
            node("tool", "q2", "tool", "search results", 5.0, ["a2"]),
            node("a2", "tool", "assistant", "", 6.0, ["a2b"], model="gpt-4o", parts=[{"asset_pointer": "x"}]),
            node("a2b", "a2", "assistant", "Overnight, in the fridge.", 7.0, model="gpt-4o"),
        ]
    )
    return [
        {
            "title": "Resting dough",
            "create_time": 1_700_000_000.0,
            "update_time": 1_700_000_100.0,
            "conversation_id": "6f1c2a9e-chatgpt",
            "current_node": "a2b",
            "default_model_slug": "gpt-4o",
            "mapping": mapping,
        }
    ]


async def test_a_chatgpt_export_comes_in_with_its_branches_and_the_branch_last_shown(service):
    imported = await service.conversations.import_file(json.dumps(chatgpt_export()).encode())

    assert (imported.added, imported.already_here) == (1, 0)
    conversation = service.conversations.get("6f1c2a9e-chatgpt")
    assert conversation.title == "Resting dough" and conversation.model == "openai:gpt-4o"
    shown = service.conversations.messages(conversation.id)
    assert [(m.role.value, m.content) for m in shown] == [
        ("user", "How long does sourdough rest?"),
        ("assistant", "Overnight, in the fridge."),
    ]
    assert shown[1].model == "openai:gpt-4o"
    every = service.conversations.repository.messages(conversation.id)
    assert len(every) == 4, "system, tool and empty messages are left out"
    other = path_to(every, next(m.id for m in every if m.content == "About an hour."))
    assert [m.content for m in other] == ["How long does dough rest?", "About an hour."]
    assert versions(every, shown)[shown[0].id].count == 2, "the edited question is a version of the first"


async def test_importing_it_again_says_everything_is_here_already(service):
    raw = json.dumps(chatgpt_export()).encode()
    await service.conversations.import_file(raw)

    with pytest.raises(InputRefused, match="All 1 conversation in that file are here already"):
        await service.conversations.import_file(raw)


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b'[{"mapping": {"a": 5}}]', "damaged"),
        (b'{"conversations": []}', "not a conversation export"),
        (b"not json", "not JSON"),
    ],
)
async def test_a_file_that_is_neither_export_is_refused_and_nothing_changes(service, raw, reason):
    with pytest.raises(InputRefused, match=reason):
        await service.conversations.import_file(raw)

    assert service.conversations.list() == []
