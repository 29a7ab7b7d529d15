"""Full-text search over message text: SQLite's FTS5 where it is there, a plain LIKE scan elsewhere."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

# An index kept by triggers, so every write path (the periodic saves of a streaming reply too) stays in step.
FTS_SETUP = [
    "CREATE VIRTUAL TABLE message_fts USING fts5(content, content='message', content_rowid='id')",
    """CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
         INSERT INTO message_fts(rowid, content) VALUES (new.id, new.content); END""",
    """CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
         INSERT INTO message_fts(message_fts, rowid, content) VALUES ('delete', old.id, old.content); END""",
    """CREATE TRIGGER message_fts_update AFTER UPDATE OF content ON message BEGIN
         INSERT INTO message_fts(message_fts, rowid, content) VALUES ('delete', old.id, old.content);
         INSERT INTO message_fts(rowid, content) VALUES (new.id, new.content); END""",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",  # messages written before the index existed
]


def install_search(engine: Engine) -> bool:
    """Create the FTS5 index once; False where the database cannot have one (not SQLite, or no FTS5)."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as connection:
        if has_fts(connection):
            return True
        try:
            for statement in FTS_SETUP:
                connection.execute(text(statement))
        except Exception as error:  # an SQLite built without FTS5: search falls back to LIKE
            log.warning("Full-text search is not available (%s); searching by substring instead", error)
            return False
    return True


def has_fts(connection: Connection) -> bool:
    query = text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'message_fts'")
    return connection.execute(query).first() is not None


def fts_query(typed: str) -> str:
    """What a person typed as an FTS5 query: every word must appear, the last one as a prefix (search as you
    type); quoting each word keeps FTS5 operators and punctuation in the text from being read as syntax."""
    words = typed.split()
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    if quoted:
        quoted[-1] += "*"
    return " ".join(quoted)
