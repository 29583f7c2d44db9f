"""Transcripts of records: those we issue (as receiving HEI) and those we receive (as sending HEI).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 01:14:16.166891
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tor_issued',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receiving_hei_id', sa.String(length=255), nullable=False),
    sa.Column('sending_hei_id', sa.String(length=255), nullable=False),
    sa.Column('omobility_id', sa.String(length=64), nullable=False),
    sa.Column('receiving_academic_year_id', sa.String(length=9), nullable=False),
    sa.Column('elmo', sa.LargeBinary(), nullable=False),
    sa.Column('conversion_table', sa.LargeBinary(), nullable=False),
    sa.Column('elmo_v1', sa.LargeBinary(), nullable=False),
    sa.Column('conversion_table_v1', sa.LargeBinary(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tor_issued')),
    sa.UniqueConstraint('sending_hei_id', 'omobility_id', name=op.f('uq_tor_issued_sending_hei_id'))
    )
    with op.batch_alter_table('tor_issued', schema=None) as batch_op:
        batch_op.create_index('ix_tor_issued_receiving', ['receiving_hei_id', 'sending_hei_id', 'modified_at'],
                              unique=False)

    op.create_table('tor_received',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sending_hei_id', sa.String(length=255), nullable=False),
    sa.Column('receiving_hei_id', sa.String(length=255), nullable=False),
    sa.Column('omobility_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('elmo', sa.LargeBinary(), nullable=False),
    sa.Column('recognition', sa.JSON(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tor_received'))
    )
    with op.batch_alter_table('tor_received', schema=None) as batch_op:
        batch_op.create_index('ix_tor_received_mobility', ['sending_hei_id', 'omobility_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tor_received', schema=None) as batch_op:
        batch_op.drop_index('ix_tor_received_mobility')

    op.drop_table('tor_received')
    with op.batch_alter_table('tor_issued', schema=None) as batch_op:
        batch_op.drop_index('ix_tor_issued_receiving')

    op.drop_table('tor_issued')
