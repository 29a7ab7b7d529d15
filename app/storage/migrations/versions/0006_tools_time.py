"""For each reply, the time its tool calls took (message.tools_ms): its tokens per second leave it out. In the Stats
page's covering index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATS_COLUMNS = [
    "created_at",
    "role",
    "model",
    "status",
    "first_token_ms",
    "duration_ms",
    "output_tokens",
    "fell_back_from",
]


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("tools_ms", sa.Integer(), nullable=True))
    op.drop_index("ix_message_stats", "message")
    op.create_index("ix_message_stats", "message", [*STATS_COLUMNS, "tools_ms"])


def downgrade() -> None:
    op.drop_index("ix_message_stats", "message")
    op.create_index("ix_message_stats", "message", STATS_COLUMNS)
    with op.batch_alter_table("message") as batch:
        batch.drop_column("tools_ms")
