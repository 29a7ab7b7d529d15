"""The schema is Alembic's: a new database is made by the revisions, a database of any earlier release is brought
up to date at start-up with everything in it kept, and the models and the revisions never drift apart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from app.storage.database import create_database
from app.storage.migrate import alembic_config, configure_context
from app.storage.models import Role, Status
from app.storage.repository import ChatRepository
from tests.storage.old_databases.make import RELEASES

OLD_DATABASES = Path(__file__).parent / "old_databases"
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_differences(engine) -> list:
    """What `alembic revision --autogenerate` would write: nothing, when models and revisions agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        configure_context(_Configurable(context), connection, SQLModel.metadata)
        return compare_metadata(context, SQLModel.metadata)


class _Configurable:
    """compare_metadata takes a MigrationContext; env.py's configure() call fills its options the same way."""

    def __init__(self, context: MigrationContext) -> None:
        self.context = context

    def configure(self, **options) -> None:
        self.context.opts.update(options)


def revision_of(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_a_new_database_is_made_by_the_revisions_and_matches_the_models(database_url):
    engine = create_database(database_url)

    assert revision_of(engine) == HEAD
    assert schema_differences(engine) == []


def test_opening_a_database_twice_changes_nothing_the_second_time(database_url):
    first = ChatRepository(create_database(database_url))
    conversation = first.create_conversation("m")
    first.add_message(conversation.id, Role.USER, "Still here", Status.COMPLETE, "m")

    again = ChatRepository(create_database(database_url))

    assert [m.content for m in again.messages(conversation.id)] == ["Still here"]


@pytest.mark.parametrize("release", RELEASES)
def test_a_database_from_every_earlier_release_opens_with_everything_kept(release, tmp_path):
    path = tmp_path / "chat.db"
    shutil.copy(OLD_DATABASES / f"{release}.db", path)

    engine = create_database(f"sqlite:///{path}")
    repository = ChatRepository(engine)

    assert revision_of(engine) == HEAD
    assert schema_differences(engine) == []
    (conversation,) = repository.list_conversations()
    shown = repository.messages(conversation.id)
    assert [(m.role, m.content, m.status) for m in shown] == [
        (Role.USER, "What is a café?", Status.COMPLETE),
        (Role.ASSISTANT, "A place that serves coffee.", Status.COMPLETE),
        (Role.USER, "And a bistro?", Status.COMPLETE),
        (Role.ASSISTANT, "A small restaurant", Status.STOPPED),
    ]
    # Each message follows the one before it (releases before branches kept no links), the last on show.
    assert [m.parent_id for m in shown] == [None, *(m.id for m in shown[:-1])]
    assert repository.get_conversation(conversation.id).leaf_id == shown[-1].id
    assert [c.id for c in repository.search_conversations("cafe")] == [conversation.id]
    # And it takes what today's release writes.
    repository.add_message(conversation.id, Role.USER, "A follow-up", Status.COMPLETE, "m")
    repository.configure_conversation(conversation.id, "Be brief.", 0.5, 100)
    assert repository.messages(conversation.id)[-1].parent_id == shown[-1].id
