"""submissions.unfinished_attempts and started_at: processing runs the worker died in, so a poison
message is set aside (and a start another worker is still on is not counted as a death)

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("unfinished_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("started_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("started_by")
        batch.drop_column("started_at")
        batch.drop_column("unfinished_attempts")
