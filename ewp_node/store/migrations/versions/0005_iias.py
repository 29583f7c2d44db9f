"""Interinstitutional agreements: our copies (with their conditions' years), partner copies, approvals both ways,
snapshots.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 01:16:08.802373
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('iias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hei_id', sa.String(length=255), nullable=False),
    sa.Column('iia_id', sa.String(length=64), nullable=False),
    sa.Column('iia_code', sa.String(length=255), nullable=True),
    sa.Column('partner_hei_id', sa.String(length=255), nullable=False),
    sa.Column('partner_iia_id', sa.String(length=64), nullable=True),
    sa.Column('in_effect', sa.Boolean(), nullable=False),
    sa.Column('terminated', sa.Boolean(), nullable=False),
    sa.Column('pdf_file', sa.String(length=255), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('element', sa.Text(), nullable=False),
    sa.Column('iia_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snapshot_data', sa.JSON(), nullable=True),
    sa.Column('snapshot_hash', sa.String(length=64), nullable=True),
    sa.Column('snapshot_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iias')),
    sa.UniqueConstraint('hei_id', 'iia_id', name=op.f('uq_iias_hei_id'))
    )
    with op.batch_alter_table('iias', schema=None) as batch_op:
        batch_op.create_index('ix_iias_partner', ['hei_id', 'partner_hei_id', 'modified_at'], unique=False)
        batch_op.create_index('ix_iias_partner_iia', ['hei_id', 'partner_hei_id', 'partner_iia_id'], unique=False)

    op.create_table('iia_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iia_pk', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('iia_hash', sa.String(length=64), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=255), nullable=False),
    sa.Column('pdf_file', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['iia_pk'], ['iias.id'], name=op.f('fk_iia_approvals_iia_pk_iias'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iia_approvals')),
    sa.UniqueConstraint('iia_pk', 'direction', name=op.f('uq_iia_approvals_iia_pk'))
    )
    op.create_table('iia_condition_years',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iia_pk', sa.Integer(), nullable=False),
    sa.Column('first_year', sa.SmallInteger(), nullable=False),
    sa.Column('last_year', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['iia_pk'], ['iias.id'], name=op.f('fk_iia_condition_years_iia_pk_iias'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iia_condition_years'))
    )
    with op.batch_alter_table('iia_condition_years', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_iia_condition_years_iia_pk'), ['iia_pk'], unique=False)

    op.create_table('iia_partner_copies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hei_id', sa.String(length=255), nullable=False),
    sa.Column('partner_hei_id', sa.String(length=255), nullable=False),
    sa.Column('partner_iia_id', sa.String(length=64), nullable=False),
    sa.Column('iia_pk', sa.Integer(), nullable=True),
    sa.Column('element', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('iia_hash', sa.String(length=64), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['iia_pk'], ['iias.id'], name=op.f('fk_iia_partner_copies_iia_pk_iias'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_iia_partner_copies')),
    sa.UniqueConstraint('hei_id', 'partner_hei_id', 'partner_iia_id', name=op.f('uq_iia_partner_copies_hei_id'))
    )
    with op.batch_alter_table('iia_partner_copies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_iia_partner_copies_iia_pk'), ['iia_pk'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('iia_partner_copies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_iia_partner_copies_iia_pk'))

    op.drop_table('iia_partner_copies')
    with op.batch_alter_table('iia_condition_years', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_iia_condition_years_iia_pk'))

    op.drop_table('iia_condition_years')
    op.drop_table('iia_approvals')
    with op.batch_alter_table('iias', schema=None) as batch_op:
        batch_op.drop_index('ix_iias_partner_iia')
        batch_op.drop_index('ix_iias_partner')

    op.drop_table('iias')
