"""Full-text search over message text, ignoring case and accents (`cafe` finds café): SQLite's FTS5, PostgreSQL's
tsvector with a GIN index, a plain scan where neither is there. The indexes are made by a migration
(`migrations/versions/0002_search.py`); this module says how to ask them."""

from __future__ import annotations

import unicodedata

from sqlalchemy import Integer, and_, func, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

# Both need the index the search revision makes.
POSTGRES_MATCH = "to_tsvector('simple', chat_fold(message.content)) @@ to_tsquery('simple', chat_fold(:query))"


def fold(value: str | None) -> str | None:
    """Lower case without accents: SQLite's chat_fold(), doing what the PostgreSQL function does."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def has_fts(connection: Connection) -> bool:
    query = text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'message_fts'")
    return connection.execute(query).first() is not None


def search_kind(connection: Connection) -> str:
    """`fts5`, `tsvector` or `scan`: how this database answers a search."""
    if connection.dialect.name == "postgresql":
        return "tsvector"
    return "fts5" if connection.dialect.name == "sqlite" and has_fts(connection) else "scan"


def message_matches(kind: str, typed: str, message_id, content) -> ColumnElement[bool]:
    """A condition on the message table: its text holds every word typed, the last one as a prefix (search as you
    type). `kind` is what `search_kind` said; `message_id` and `content` are the table's columns."""
    if kind == "fts5":
        found = text("SELECT rowid FROM message_fts WHERE message_fts MATCH :query")
        return message_id.in_(found.bindparams(query=fts_query(typed)).columns(rowid=Integer).subquery().select())
    if kind == "tsvector":
        return text(POSTGRES_MATCH).bindparams(query=tsquery(typed))
    return and_(*[contains_folded(content, word) for word in typed.split()])


def contains_folded(column, word: str) -> ColumnElement[bool]:
    """`column` holds `word`, ignoring case and accents (chat_fold on both databases)."""
    return func.chat_fold(column).contains(fold(word), autoescape=True)


def fts_query(typed: str) -> str:
    """What a person typed as an FTS5 query: every word must appear, the last one as a prefix; quoting each word
    keeps FTS5 operators and punctuation in the text from being read as syntax."""
    quoted = ['"' + word.replace('"', '""') + '"' for word in typed.split()]
    if quoted:
        quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(typed: str) -> str:
    """The same for PostgreSQL's to_tsquery: each word a quoted lexeme, all of them required, the last a prefix."""
    quoted = ["'" + word.replace("\\", "\\\\").replace("'", "''") + "'" for word in typed.split()]
    if quoted:
        quoted[-1] += ":*"
    return " & ".join(quoted)
