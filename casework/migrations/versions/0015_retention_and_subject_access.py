"""retention and subject access (issue 16): no schema change. Retention deletes rows of the existing
tables, the subject access export reads them and records an event, and export/restore copy them; the
revision stays so the chain each owner was given is unchanged.

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # nothing to change: see the docstring


def downgrade() -> None:
    pass
