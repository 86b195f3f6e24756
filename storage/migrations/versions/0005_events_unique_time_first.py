"""events: unique (time, source_key) instead of (source_key, time); the plain time index goes

Why: ingestion inserts events in time order, so an index that starts with the time is appended to at its right
edge, while one that starts with the source key (a hash) takes every insert on a random page: on a store larger
than the page cache each such insert reads a page back. The new unique index also serves every query the time
index served (time ranges, newest first), so that index is dropped: one B-tree fewer to maintain per event.

SQLite cannot drop a table constraint in place: the table is rebuilt (one copy of the events; on a large store
`bouncebot db upgrade` takes a while, once). PostgreSQL swaps the constraint on the partitioned table.

Revision ID: 0005
Revises: 0002, 0004
Create Date: 2026-11-30 10:40:00
"""
from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = ('0002', '0004')
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('uq_events_source_key_time', 'events', type_='unique')
        op.create_unique_constraint('uq_events_time_source_key', 'events', ['time', 'source_key'])
        op.drop_index('ix_events_time', table_name='events')
        return
    with op.batch_alter_table('events', recreate='always') as batch_op:
        batch_op.drop_constraint('uq_events_source_key_time', type_='unique')
        batch_op.create_unique_constraint('uq_events_time_source_key', ['time', 'source_key'])
        batch_op.drop_index('ix_events_time')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_events_time', 'events', ['time'])
        op.drop_constraint('uq_events_time_source_key', 'events', type_='unique')
        op.create_unique_constraint('uq_events_source_key_time', 'events', ['source_key', 'time'])
        return
    with op.batch_alter_table('events', recreate='always') as batch_op:
        batch_op.create_index('ix_events_time', ['time'])
        batch_op.drop_constraint('uq_events_time_source_key', type_='unique')
        batch_op.create_unique_constraint('uq_events_source_key_time', ['source_key', 'time'])
