"""The change-notification outbox: one row per notification (or follow-up fetch) to deliver to a partner.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 00:34:12.205343
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cnr_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('owner_hei', sa.String(length=255), nullable=False),
    sa.Column('partner_hei', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=255), nullable=False),
    sa.Column('state', sa.Enum('pending', 'delivered', 'failed', 'gave-up', 'merged', name='outboxstate',
                               native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('given_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('merged_into', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['merged_into'], ['cnr_outbox.id'], name=op.f('fk_cnr_outbox_merged_into_cnr_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cnr_outbox'))
    )
    with op.batch_alter_table('cnr_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_cnr_outbox_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_cnr_outbox_key', ['kind', 'partner_hei', 'object_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cnr_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_cnr_outbox_key')
        batch_op.drop_index('ix_cnr_outbox_due')
    op.drop_table('cnr_outbox')
