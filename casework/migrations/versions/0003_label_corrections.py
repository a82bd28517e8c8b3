"""label corrections: staff-corrected categories and flags for retraining the classifier

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "label_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("corrected_by", sa.String(length=100), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_category", sa.String(length=30), nullable=True),
        sa.Column("previous_flags", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_label_corrections_submission_id", "label_corrections", ["submission_id"])
    op.create_index("ix_label_corrections_case_id", "label_corrections", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_label_corrections_case_id", table_name="label_corrections")
    op.drop_index("ix_label_corrections_submission_id", table_name="label_corrections")
    op.drop_table("label_corrections")
