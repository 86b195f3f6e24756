"""tracking store and bouncebot records

Revision ID: 0001
Revises: 
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approved_senders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pattern', sa.String(length=320), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=64), nullable=True),
    sa.Column('request_key', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_key')
    )
    with op.batch_alter_table('approved_senders', schema=None) as batch_op:
        batch_op.create_index('ix_approved_senders_pattern', ['pattern'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=998), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_time', ['time'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('target', sa.String(length=998), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('case_message_ts', sa.String(length=32), nullable=True),
    sa.Column('request_key', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_key')
    )
    op.create_table('digest_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('digest', sa.String(length=128), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('claimed_by', sa.String(length=128), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest', 'day', name='uq_digest_runs_digest_day')
    )
    _create_events()

    op.create_table('ingest_cursors',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('stream', sa.String(length=1024), nullable=False),
    sa.Column('inode', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('offset', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'stream', name='uq_ingest_cursors_source_stream')
    )
    op.create_table('slack_events_seen',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )


def downgrade() -> None:
    op.drop_table('slack_events_seen')
    op.drop_table('ingest_cursors')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_time')
        batch_op.drop_index('ix_events_sender_time')
        batch_op.drop_index('ix_events_sender_domain_rev_time')
        batch_op.drop_index('ix_events_recipient_time')
        batch_op.drop_index('ix_events_queue_id')
        batch_op.drop_index('ix_events_message_id_time')
        batch_op.drop_index('ix_events_client_ip_time')

    op.drop_table('events')
    op.drop_table('digest_runs')
    op.drop_table('cases')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_time')

    op.drop_table('audit_log')
    with op.batch_alter_table('approved_senders', schema=None) as batch_op:
        batch_op.drop_index('ix_approved_senders_pattern')

    op.drop_table('approved_senders')


def _create_events() -> None:
    """The event table; on PostgreSQL partitioned by day on `time` (retention drops whole partitions).

    A partitioned table's keys must contain the partition column, so the primary key is (id, time) there and
    the idempotency key is (source_key, time) on both databases (a source key always comes with its time).
    """
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE SEQUENCE events_id_seq")
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=not postgres,
              nullable=False, server_default=sa.text("nextval('events_id_seq')") if postgres else None),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_key', sa.String(length=128), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('disposition', sa.String(length=16), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=True),
    sa.Column('sender_domain', sa.String(length=255), nullable=True),
    sa.Column('sender_domain_rev', sa.String(length=256), nullable=True),
    sa.Column('recipient', sa.String(length=320), nullable=True),
    sa.Column('recipient_domain', sa.String(length=255), nullable=True),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('client_host', sa.String(length=255), nullable=True),
    sa.Column('helo', sa.String(length=255), nullable=True),
    sa.Column('relay', sa.String(length=255), nullable=True),
    sa.Column('message_id', sa.String(length=998), nullable=True),
    sa.Column('queue_id', sa.String(length=32), nullable=True),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('nrcpt', sa.Integer(), nullable=True),
    sa.Column('smtp_code', sa.Integer(), nullable=True),
    sa.Column('enhanced_status', sa.String(length=16), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=True),
    sa.Column('rejected_by', sa.String(length=8), nullable=True),
    sa.Column('reason', sa.String(length=24), nullable=True),
    sa.Column('cause', sa.String(length=24), nullable=True),
    sa.Column('dnsbl_zone', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', 'time') if postgres else sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key', 'time', name='uq_events_source_key_time'),
    postgresql_partition_by='RANGE (time)',
    )
    if postgres:
        op.execute("ALTER SEQUENCE events_id_seq OWNED BY events.id")
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_client_ip_time', ['client_ip', 'time'], unique=False)
        batch_op.create_index('ix_events_message_id_time', ['message_id', 'time'], unique=False)
        batch_op.create_index('ix_events_queue_id', ['queue_id'], unique=False)
        batch_op.create_index('ix_events_recipient_time', ['recipient', 'time'], unique=False)
        batch_op.create_index('ix_events_sender_domain_rev_time', ['sender_domain_rev', 'time'], unique=False)
        batch_op.create_index('ix_events_sender_time', ['sender', 'time'], unique=False)
        batch_op.create_index('ix_events_time', ['time'], unique=False)
