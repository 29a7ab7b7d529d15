"""Titles written by the model are cleaned up before they are shown; a person's own title is never overwritten."""

from __future__ import annotations

import pytest

from app.chat.titles import clean_title
from app.storage.database import create_database
from app.storage.models import Role, Status
from app.storage.repository import ChatRepository


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ('"Bread Ingredients."', "Bread Ingredients"),
        ("Title: **Sourdough basics**\n\nSome explanation", "Sourdough basics"),
        ("## Baking at home", "Baking at home"),
        ("   \n  “Pain au levain”  ", "Pain au levain"),
        ("word " * 30, ("word " * 30)[:59].rstrip() + "…"),
        ("  \n ", None),
    ],
)
def test_a_model_written_title_is_cleaned_up(raw, title):
    assert clean_title(raw) == title


def test_a_rename_by_the_person_wins_over_a_late_model_title(database_url):
    repository = ChatRepository(create_database(database_url))
    conversation = repository.create_conversation("m")
    repository.add_message(conversation.id, Role.USER, "First words", Status.COMPLETE, "m")
    repository.rename_conversation(conversation.id, "My own title")

    assert not repository.retitle(conversation.id, "First words", "Model title")
    assert repository.get_conversation(conversation.id).title == "My own title"
