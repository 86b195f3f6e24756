"""approved_senders.active_key (one active approval per pattern) and who reopened a case

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-30 07:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('approved_senders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active_key', sa.String(length=330), nullable=True))
    # Approvals already stored: the newest unremoved row of each pattern becomes the active one.
    op.execute(
        "UPDATE approved_senders SET active_key = kind || ':' || pattern "
        "WHERE removed_at IS NULL AND id = (SELECT MAX(a.id) FROM approved_senders a "
        "WHERE a.pattern = approved_senders.pattern AND a.kind = approved_senders.kind AND a.removed_at IS NULL)"
    )
    with op.batch_alter_table('approved_senders', schema=None) as batch_op:
        batch_op.create_index('ux_approved_senders_active_key', ['active_key'], unique=True)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reopened_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('reopened_by')
        batch_op.drop_column('reopened_at')

    with op.batch_alter_table('approved_senders', schema=None) as batch_op:
        batch_op.drop_index('ux_approved_senders_active_key')
        batch_op.drop_column('active_key')
