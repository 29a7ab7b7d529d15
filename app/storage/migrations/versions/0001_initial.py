"""The schema of the last release made without migrations; a database made by any earlier release is brought
level with it.

Revision ID: 0001
Revises:
Create Date: 2026-12-01

Releases before migrations created their tables with `create_all` and, at start-up, added the nullable columns
that were new since. A database from one of them has tables but no alembic_version: this revision adds what it
lacks (tables and columns) instead of creating everything. The tables are written out here, frozen, rather than
taken from the models, which will change after it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLE = sa.Enum("USER", "ASSISTANT", name="role")
STATUS = sa.Enum("STREAMING", "COMPLETE", "STOPPED", "ERROR", "INTERRUPTED", name="status")


def _tables() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "conversation",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("system_prompt", sa.String(), nullable=True),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("max_output_tokens", sa.Integer(), nullable=True),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leaf_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    sa.Table(
        "message",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversation.id"), nullable=False, index=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("content", sa.String(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("model", sa.String(), nullable=True),
        sa.Column("finish_reason", sa.String(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("first_token_ms", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "reply_piece",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), nullable=False, index=True),
        sa.Column("text", sa.String(), nullable=False),
    )
    sa.Table(
        "appsecret",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )
    sa.Table(
        "apikey",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, index=True),
        sa.Column("hint", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    sa.Table(
        "systempreset",
        metadata,
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("text", sa.String(), nullable=False),
    )
    sa.Table(
        "provider_connection",
        metadata,
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("base_url", sa.String(), nullable=True),
        sa.Column("sealed_key", sa.String(), nullable=True),
        sa.Column("key_hint", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    return metadata


def upgrade() -> None:
    bind = op.get_bind()
    tables = _tables()
    if not sa.inspect(bind).has_table("conversation"):
        tables.create_all(bind)
        return
    tables.create_all(bind, checkfirst=True)  # tables that came after the release that made this database
    added = _add_missing_columns(tables)
    if "message.parent_id" in added:
        _link_linear_history()


def _add_missing_columns(tables: sa.MetaData) -> set[str]:
    """Every column added since the first release is nullable: adding it is the whole change."""
    inspector = sa.inspect(op.get_bind())
    added: set[str] = set()
    for table in tables.sorted_tables:
        existing = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column for column in table.columns if column.name not in existing]
        if not missing:
            continue
        with op.batch_alter_table(table.name) as batch:
            for column in missing:
                assert column.nullable, f"{table.name}.{column.name} was never added after a release"
                batch.add_column(sa.Column(column.name, column.type, nullable=True))
                added.add(f"{table.name}.{column.name}")
    return added


def _link_linear_history() -> None:
    """Before branches (22498d2), a conversation was its messages in order: each follows the one before it, and
    the last is the branch on show."""
    op.execute(
        "UPDATE message SET parent_id = (SELECT MAX(earlier.id) FROM message AS earlier "
        "WHERE earlier.conversation_id = message.conversation_id AND earlier.id < message.id)"
    )
    op.execute(
        "UPDATE conversation SET leaf_id = (SELECT MAX(id) FROM message WHERE conversation_id = conversation.id)"
    )


def downgrade() -> None:
    _tables().drop_all(op.get_bind())
