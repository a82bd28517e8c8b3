"""the staff queue's indexes (casework.queue), measured by bench/bench_queue.py at 100,000 cases

* ix_clocks_case_open_due (case_id, met_at, due_at, kind): a case's nearest unmet clock that is not a
  window, from the index alone. With only ix_clocks_case_id and ix_clocks_open_due the planners
  (SQLite's above all) read every unmet clock in the database for each case.
* ix_clocks_open_due_kind (met_at, due_at, kind, case_id): the walk over unmet clocks in due order
  (and the overdue and due-this-week counts) skips windows and finds the case without reading rows.
  It makes 0005's ix_clocks_open_due (met_at, due_at) redundant, which is left alone here.
* ix_cases_assignee_status (assignee, status): "mine" and "unassigned" read only open and held cases,
  not every case a person ever had.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_clocks_case_open_due", "clocks", ["case_id", "met_at", "due_at", "kind"])
    op.create_index("ix_clocks_open_due_kind", "clocks", ["met_at", "due_at", "kind", "case_id"])
    op.create_index("ix_cases_assignee_status", "cases", ["assignee", "status"])


def downgrade() -> None:
    op.drop_index("ix_cases_assignee_status", table_name="cases")
    op.drop_index("ix_clocks_open_due_kind", table_name="clocks")
    op.drop_index("ix_clocks_case_open_due", table_name="clocks")
