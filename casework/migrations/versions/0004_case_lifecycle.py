"""case lifecycle: assignee, stage 1 handler, outcome and closure; clock extensions; when an event
was recorded beside when it happened; links between cases

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("assignee", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("stage1_handler", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_cases_assignee", ["assignee"])
    with op.batch_alter_table("clocks") as batch:
        batch.add_column(sa.Column("extended_by_days", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column("actor", type_=sa.String(length=320), existing_type=sa.String(length=100))
    op.execute("UPDATE case_events SET recorded_at = at WHERE recorded_at IS NULL")
    with op.batch_alter_table("case_events") as batch:
        batch.alter_column("recorded_at", nullable=False, existing_type=sa.DateTime(timezone=True))
    op.create_table(
        "case_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("other_case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "other_case_id", name="uq_case_link_pair"),
    )
    op.create_index("ix_case_links_case_id", "case_links", ["case_id"])
    op.create_index("ix_case_links_other_case_id", "case_links", ["other_case_id"])


def downgrade() -> None:
    op.drop_table("case_links")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("recorded_at")
    with op.batch_alter_table("clocks") as batch:
        batch.drop_column("extended_by_days")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_assignee")
        for column in ("closed_at", "outcome", "stage1_handler", "assignee"):
            batch.drop_column(column)
