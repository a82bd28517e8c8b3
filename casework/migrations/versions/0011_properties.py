"""the landlord's homes (the stock list), and the home a case is about

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "properties",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uprn", sa.String(20), nullable=False),
        sa.Column("address_1", sa.String(200), nullable=False),
        sa.Column("address_2", sa.String(200), nullable=True),
        sa.Column("address_3", sa.String(200), nullable=True),
        sa.Column("town", sa.String(100), nullable=True),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("tenancy_ref", sa.String(50), nullable=True),
        sa.Column("tenant_names", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("uprn", name="uq_properties_uprn"),
    )
    op.create_index("ix_properties_postcode", "properties", ["postcode"])
    op.create_index("ix_properties_tenancy_ref", "properties", ["tenancy_ref"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("property_id", sa.Integer(), nullable=True))
        batch.create_index("ix_cases_property_id", ["property_id"])
        batch.create_foreign_key("fk_cases_property_id", "properties", ["property_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_property_id", type_="foreignkey")
        batch.drop_index("ix_cases_property_id")
        batch.drop_column("property_id")
    op.drop_index("ix_properties_tenancy_ref", table_name="properties")
    op.drop_index("ix_properties_postcode", table_name="properties")
    op.drop_table("properties")
