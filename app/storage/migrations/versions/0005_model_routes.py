"""Routes made in the app (model_route): an ordered list of models across providers, chosen as one entry.

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


def upgrade() -> None:
    op.create_table(
        "model_route",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("models", StoredText(), nullable=False),
        sa.Column("switch_at_once", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_route")
