"""report rollup: the traffic report's figures per local day; a partial index on deferred events

Why: the report of one day read every event of the day several times (seconds at 1 M events, far more at
10 M); the rollup holds each day's figures, built once and topped up by event id like the digest's
(bot/rollups.py). "Deferred now" stays a live query, over the deferred events of the queue lifetime only:
the partial index holds those few rows, so ingestion pays for it only on deferrals.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 21:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_DEFERRED = sa.text("disposition = 'deferred'")


def upgrade() -> None:
    op.create_table(
        'report_rollup',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('zone', sa.String(length=64), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('k1', sa.String(length=320), nullable=False),
        sa.Column('k2', sa.String(length=320), nullable=False),
        sa.Column('k3', sa.String(length=255), nullable=False),
        sa.Column('k4', sa.String(length=255), nullable=False),
        sa.Column('k5', sa.String(length=255), nullable=False),
        sa.Column('n', _ID, nullable=False),
        sa.Column('bytes', _ID, nullable=False),
        sa.Column('delay_sum', _ID, nullable=False),
        sa.Column('delays', _ID, nullable=False),
        sa.Column('delay_max', _ID, nullable=True),
        sa.Column('example', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('zone', 'day', 'kind', 'k1', 'k2', 'k3', 'k4', 'k5', name='uq_report_rollup_cell'),
    )
    op.create_table(
        'report_rollup_days',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('zone', sa.String(length=64), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('built_through_id', _ID, nullable=False),
        sa.Column('events', _ID, nullable=False),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('zone', 'day', name='uq_report_rollup_days_zone_day'),
    )
    op.create_index('ix_events_deferred_time', 'events', ['time'], unique=False,
                    sqlite_where=_DEFERRED, postgresql_where=_DEFERRED)


def downgrade() -> None:
    op.drop_index('ix_events_deferred_time', table_name='events')
    op.drop_table('report_rollup_days')
    op.drop_table('report_rollup')
