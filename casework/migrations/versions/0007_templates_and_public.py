"""managers' template versions; the public form's rate-limit record; a case's adjustments and language

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=320), nullable=False),
        sa.Column("saved_at", TZ, nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_template_versions_path_id", "template_versions", ["path", "id"])
    op.create_table(
        "public_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=20), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_public_attempts_page_client_at", "public_attempts", ["page", "client", "at"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("adjustments", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("adjustment_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("language")
        batch.drop_column("adjustment_note")
        batch.drop_column("adjustments")
    op.drop_index("ix_public_attempts_page_client_at", table_name="public_attempts")
    op.drop_table("public_attempts")
    op.drop_index("ix_template_versions_path_id", table_name="template_versions")
    op.drop_table("template_versions")
