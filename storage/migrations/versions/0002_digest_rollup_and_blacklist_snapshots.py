"""digest rollup and blacklist snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blacklist_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('digest', sa.String(length=128), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('zone', sa.String(length=255), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('blacklist_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_blacklist_snapshots_digest_taken', ['digest', 'taken_at'], unique=False)

    op.create_table('digest_rollup',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('disposition', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=24), nullable=False),
    sa.Column('count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('zone', 'kind', 'day', 'key', 'direction', 'disposition', 'cause', 'reason', name='uq_digest_rollup_cell')
    )
    with op.batch_alter_table('digest_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_digest_rollup_lookup', ['zone', 'kind', 'key', 'day', 'disposition', 'direction'], unique=False)

    op.create_table('digest_rollup_days',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('built_through_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('events', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('zone', 'day', name='uq_digest_rollup_days_zone_day')
    )


def downgrade() -> None:
    op.drop_table('digest_rollup_days')
    with op.batch_alter_table('digest_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_rollup_lookup')

    op.drop_table('digest_rollup')
    with op.batch_alter_table('blacklist_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_blacklist_snapshots_digest_taken')

    op.drop_table('blacklist_snapshots')
