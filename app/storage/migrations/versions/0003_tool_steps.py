"""Tools: each reply's tool calls (tool_step), the tools the person always allows (tool_permission), and the tool
sources a conversation offers (conversation.tool_sources).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.storage.models import StoredText

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tool_step",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("message.id"), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text_offset", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("tool", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("arguments", StoredText(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "STREAMING",
                "AWAITING_APPROVAL",
                "RUNNING",
                "COMPLETE",
                "ERROR",
                "DENIED",
                "STOPPED",
                "INTERRUPTED",
                name="toolstatus",
            ),
            nullable=False,
        ),
        sa.Column("result", StoredText(), nullable=True),
        sa.Column("images", sa.String(), nullable=True),
        sa.Column("is_error", sa.Boolean(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
    )
    op.create_index("ix_tool_step_message_id", "tool_step", ["message_id"])
    op.create_table(
        "tool_permission",
        sa.Column("tool_key", StoredText(), primary_key=True),
        sa.Column("allowed_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(sa.Column("tool_sources", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("tool_sources")
    op.drop_table("tool_permission")
    op.drop_index("ix_tool_step_message_id", "tool_step")
    op.drop_table("tool_step")
    sa.Enum(name="toolstatus").drop(op.get_bind(), checkfirst=True)
