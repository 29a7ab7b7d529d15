"""Routes made in the app (model_route): an ordered list of models across providers, chosen as one entry; and for
each reply the models of its route that failed before it answered (message.fell_back_from), which the Stats page
reads from its covering index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.storage.models import StoredText

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


STATS_COLUMNS = ["created_at", "role", "model", "status", "first_token_ms", "duration_ms", "output_tokens"]


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("fell_back_from", StoredText(), nullable=True))
    op.drop_index("ix_message_stats", "message")
    op.create_index("ix_message_stats", "message", [*STATS_COLUMNS, "fell_back_from"])
    op.create_table(
        "model_route",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("models", StoredText(), nullable=False),
        sa.Column("switch_at_once", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_route")
    op.drop_index("ix_message_stats", "message")
    op.create_index("ix_message_stats", "message", STATS_COLUMNS)
    with op.batch_alter_table("message") as batch:
        batch.drop_column("fell_back_from")
