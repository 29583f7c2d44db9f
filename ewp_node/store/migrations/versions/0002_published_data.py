"""Published data: institutions, organizational units, learning opportunities (LOS/LOI), factsheets, files.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 13:03:56.382560
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pub_factsheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hei_id', sa.String(length=255), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_factsheets')),
    sa.UniqueConstraint('hei_id', name=op.f('uq_pub_factsheets_hei_id'))
    )
    op.create_table('pub_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hei_id', sa.String(length=255), nullable=False),
    sa.Column('file_id', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('shared_with', sa.JSON(), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_files')),
    sa.UniqueConstraint('file_id', name=op.f('uq_pub_files_file_id'))
    )
    with op.batch_alter_table('pub_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pub_files_hei_id'), ['hei_id'], unique=False)

    op.create_table('pub_institutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hei_id', sa.String(length=255), nullable=False),
    sa.Column('root_ounit_id', sa.String(length=64), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_institutions')),
    sa.UniqueConstraint('hei_id', name=op.f('uq_pub_institutions_hei_id'))
    )
    op.create_table('pub_los',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hei_id', sa.String(length=255), nullable=False),
    sa.Column('los_id', sa.String(length=64), nullable=False),
    sa.Column('los_code', sa.String(length=255), nullable=True),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('ounit_id', sa.String(length=64), nullable=True),
    sa.Column('isced_code', sa.String(length=16), nullable=True),
    sa.Column('eqf_level', sa.SmallInteger(), nullable=True),
    sa.Column('open_to_incoming', sa.Boolean(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_los')),
    sa.UniqueConstraint('hei_id', 'los_id', name=op.f('uq_pub_los_hei_id'))
    )
    with op.batch_alter_table('pub_los', schema=None) as batch_op:
        batch_op.create_index('ix_pub_los_code', ['hei_id', 'los_code'], unique=False)
        batch_op.create_index('ix_pub_los_modified', ['hei_id', 'modified_at'], unique=False)

    op.create_table('pub_ounits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hei_id', sa.String(length=255), nullable=False),
    sa.Column('ounit_id', sa.String(length=64), nullable=False),
    sa.Column('ounit_code', sa.String(length=255), nullable=False),
    sa.Column('parent_ounit_id', sa.String(length=64), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_ounits')),
    sa.UniqueConstraint('hei_id', 'ounit_id', name=op.f('uq_pub_ounits_hei_id'))
    )
    with op.batch_alter_table('pub_ounits', schema=None) as batch_op:
        batch_op.create_index('ix_pub_ounits_code', ['hei_id', 'ounit_code'], unique=False)

    op.create_table('pub_lois',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('los_pk', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('loi_id', sa.String(length=64), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('academic_year_id', sa.String(length=9), nullable=True),
    sa.Column('language_of_instruction', sa.String(length=35), nullable=True),
    sa.Column('ects', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['los_pk'], ['pub_los.id'], name=op.f('fk_pub_lois_los_pk_pub_los'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_lois')),
    sa.UniqueConstraint('los_pk', 'loi_id', name=op.f('uq_pub_lois_los_pk'))
    )
    with op.batch_alter_table('pub_lois', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pub_lois_los_pk'), ['los_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pub_lois', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pub_lois_los_pk'))

    op.drop_table('pub_lois')
    with op.batch_alter_table('pub_ounits', schema=None) as batch_op:
        batch_op.drop_index('ix_pub_ounits_code')

    op.drop_table('pub_ounits')
    with op.batch_alter_table('pub_los', schema=None) as batch_op:
        batch_op.drop_index('ix_pub_los_modified')
        batch_op.drop_index('ix_pub_los_code')

    op.drop_table('pub_los')
    op.drop_table('pub_institutions')
    with op.batch_alter_table('pub_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pub_files_hei_id'))

    op.drop_table('pub_files')
    op.drop_table('pub_factsheets')
