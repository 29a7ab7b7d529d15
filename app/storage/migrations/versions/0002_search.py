"""Search that ignores case and accents: SQLite's FTS5 index kept by triggers (remade with remove_diacritics 2
where an earlier release made it without), PostgreSQL's tsvector through a GIN index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy.exc import OperationalError

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

# SQLite: an index kept by triggers, so every write path (the final save of a streaming reply too) stays in step.
FTS_SETUP = [
    """CREATE VIRTUAL TABLE message_fts USING fts5(content, content='message', content_rowid='id',
         tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
         INSERT INTO message_fts(rowid, content) VALUES (new.id, new.content); END""",
    """CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
         INSERT INTO message_fts(message_fts, rowid, content) VALUES ('delete', old.id, old.content); END""",
    """CREATE TRIGGER message_fts_update AFTER UPDATE OF content ON message BEGIN
         INSERT INTO message_fts(message_fts, rowid, content) VALUES ('delete', old.id, old.content);
         INSERT INTO message_fts(rowid, content) VALUES (new.id, new.content); END""",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",  # messages written before the index existed
]
FTS_TEARDOWN = [
    "DROP TRIGGER IF EXISTS message_fts_insert",
    "DROP TRIGGER IF EXISTS message_fts_delete",
    "DROP TRIGGER IF EXISTS message_fts_update",
    "DROP TABLE IF EXISTS message_fts",
]
# PostgreSQL: unaccent() is only STABLE, and an index needs an IMMUTABLE function; this wrapper is the usual one
# (its dictionary named, so the search path cannot change what it does).
POSTGRES_SETUP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """CREATE OR REPLACE FUNCTION chat_fold(value text) RETURNS text
         LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
         AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$""",
    "CREATE INDEX ix_message_search ON message USING GIN (to_tsvector('simple', chat_fold(content)))",
]
POSTGRES_TEARDOWN = ["DROP INDEX IF EXISTS ix_message_search", "DROP FUNCTION IF EXISTS chat_fold(text)"]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in POSTGRES_SETUP:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in FTS_TEARDOWN:
            op.execute(statement)
        try:
            for statement in FTS_SETUP:
                op.execute(statement)
        except OperationalError as error:  # an SQLite built without FTS5: search scans instead
            log.warning("Full-text search is not available (%s); searching by substring instead", error)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_TEARDOWN if dialect == "postgresql" else FTS_TEARDOWN if dialect == "sqlite" else []:
        op.execute(statement)
