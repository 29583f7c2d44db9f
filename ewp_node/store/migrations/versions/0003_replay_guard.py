"""Replay guard table (request ids claimed across workers and nodes) and a unique id per audit row (journal
replays cannot duplicate a row).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('replay_guard',
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_replay_guard'))
    )
    with op.batch_alter_table('replay_guard', schema=None) as batch_op:
        batch_op.create_index('ix_replay_guard_expires_at', ['expires_at'], unique=False)

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uid', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_uid'), ['uid'])


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_uid'), type_='unique')
        batch_op.drop_column('uid')

    with op.batch_alter_table('replay_guard', schema=None) as batch_op:
        batch_op.drop_index('ix_replay_guard_expires_at')

    op.drop_table('replay_guard')
