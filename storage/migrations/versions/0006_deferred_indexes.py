"""deferred_indexes: the event-table indexes a bulk load dropped on SQLite, to be built again at its end

Why: a large load into a small SQLite store spends most of its storing time keeping six secondary B-trees in
order row by row; dropping them and building each once at the end (one sort) is far cheaper (storage.bulk).
Their statements are kept here, so a load killed half-way leaves a store that the next ingestion or
`bouncebot db upgrade` restores exactly, whatever version of bouncebot does it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deferred_indexes',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('ddl', sa.Text(), nullable=False),
        sa.Column('deferred_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('deferred_indexes')
