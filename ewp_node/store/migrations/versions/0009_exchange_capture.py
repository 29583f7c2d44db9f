"""Headers and bodies of audited exchanges (exchange_capture), one row per audit row, purged after some days.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_capture',
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('request_bytes', sa.Integer(), nullable=True),
    sa.Column('response_bytes', sa.Integer(), nullable=True),
    sa.Column('wire', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['uid'], ['audit_log.uid'], name=op.f('fk_exchange_capture_uid_audit_log'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('uid', name=op.f('pk_exchange_capture'))
    )
    with op.batch_alter_table('exchange_capture', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_capture_at', ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('exchange_capture', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_capture_at')

    op.drop_table('exchange_capture')
