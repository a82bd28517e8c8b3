"""outbox rows know their mailbox (the per-sender cap reads one index range) and when their delivery
reached the case (a batch of sends records it after the sends)

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("mailbox", sa.String(320), nullable=True))
        batch.add_column(sa.Column("delivery_recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_outbox_mailbox_created", ["mailbox", "created_at"])
        batch.create_index("ix_outbox_status_recorded", ["status", "delivery_recorded_at"])
    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("to_address", sa.String),
                      sa.column("mailbox", sa.String), sa.column("status", sa.String),
                      sa.column("sent_at", sa.DateTime), sa.column("delivery_recorded_at", sa.DateTime))
    connection = op.get_bind()
    rows = connection.execute(sa.select(outbox.c.id, outbox.c.to_address).where(outbox.c.to_address.is_not(None)))
    for outbox_id, address in rows.fetchall():
        connection.execute(outbox.update().where(outbox.c.id == outbox_id).values(mailbox=_mailbox(address)))
    # Every row sent before this revision had its delivery recorded in the same transaction.
    connection.execute(outbox.update().where(outbox.c.status == "sent")
                       .values(delivery_recorded_at=outbox.c.sent_at))


def _mailbox(address: str) -> str:
    """responders.outbox.canonical_address as it was at this revision (a migration never imports the app)."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return domain
    base = local.split("+", 1)[0]
    return f"{base or local}@{domain}"


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_status_recorded")
        batch.drop_index("ix_outbox_mailbox_created")
        batch.drop_column("delivery_recorded_at")
        batch.drop_column("mailbox")
