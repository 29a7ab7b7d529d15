"""The Stats page reads a week of replies from one covering index (time, role, model, status, timings, tokens)
instead of the whole message table, texts and all.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ["created_at", "role", "model", "status", "first_token_ms", "duration_ms", "output_tokens"]


def upgrade() -> None:
    op.create_index("ix_message_stats", "message", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_message_stats", "message")
