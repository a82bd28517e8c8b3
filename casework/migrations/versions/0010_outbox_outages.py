"""outbox rows at risk, and possible resends after a sender died mid-send

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("at_risk_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("possible_resends", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("possible_resends")
        batch.drop_column("at_risk_since")
