"""Mobilities and learning agreements (both directions), partner copies as received.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 00:33:30.732251
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mob_mobilities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('omobility_id', sa.String(length=64), nullable=False),
    sa.Column('sending_hei_id', sa.String(length=255), nullable=False),
    sa.Column('sending_ounit_id', sa.String(length=64), nullable=True),
    sa.Column('sending_ounit_name', sa.String(length=255), nullable=True),
    sa.Column('sending_iia_id', sa.String(length=64), nullable=True),
    sa.Column('sending_contact', sa.JSON(), nullable=True),
    sa.Column('receiving_hei_id', sa.String(length=255), nullable=False),
    sa.Column('receiving_ounit_id', sa.String(length=64), nullable=True),
    sa.Column('receiving_ounit_name', sa.String(length=255), nullable=True),
    sa.Column('receiving_iia_id', sa.String(length=64), nullable=True),
    sa.Column('receiving_contact', sa.JSON(), nullable=True),
    sa.Column('student_given_names', sa.String(length=255), nullable=False),
    sa.Column('student_family_name', sa.String(length=255), nullable=False),
    sa.Column('student_global_id', sa.String(length=255), nullable=False),
    sa.Column('student_birth_date', sa.Date(), nullable=False),
    sa.Column('student_citizenship', sa.String(length=2), nullable=False),
    sa.Column('student_gender', sa.SmallInteger(), nullable=False),
    sa.Column('student_email', sa.String(length=255), nullable=False),
    sa.Column('sending_term_id', sa.String(length=16), nullable=True),
    sa.Column('receiving_academic_year_id', sa.String(length=9), nullable=False),
    sa.Column('activity_type', sa.String(length=32), nullable=False),
    sa.Column('activity_attributes', sa.String(length=32), nullable=False),
    sa.Column('eqf_level', sa.SmallInteger(), nullable=False),
    sa.Column('isced_code', sa.String(length=16), nullable=False),
    sa.Column('agreement_isced_code', sa.String(length=16), nullable=True),
    sa.Column('isced_clarification', sa.Text(), nullable=True),
    sa.Column('language_skills', sa.JSON(), nullable=False),
    sa.Column('planned_arrival', sa.Date(), nullable=True),
    sa.Column('planned_departure', sa.Date(), nullable=True),
    sa.Column('actual_arrival', sa.Date(), nullable=True),
    sa.Column('actual_departure', sa.Date(), nullable=True),
    sa.Column('nomination_status', sa.String(length=16), nullable=False),
    sa.Column('nomination_proposal_id', sa.String(length=64), nullable=False),
    sa.Column('nomination_comment', sa.Text(), nullable=True),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mob_mobilities')),
    sa.UniqueConstraint('sending_hei_id', 'omobility_id', name=op.f('uq_mob_mobilities_sending_hei_id'))
    )
    with op.batch_alter_table('mob_mobilities', schema=None) as batch_op:
        batch_op.create_index('ix_mob_mobilities_modified', ['sending_hei_id', 'modified_at'], unique=False)
        batch_op.create_index('ix_mob_mobilities_receiving', ['receiving_hei_id', 'direction', 'omobility_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_mob_mobilities_student_global_id'), ['student_global_id'], unique=False)

    op.create_table('mob_partner_copies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document', sa.String(length=16), nullable=False),
    sa.Column('partner_hei_id', sa.String(length=255), nullable=False),
    sa.Column('sending_hei_id', sa.String(length=255), nullable=False),
    sa.Column('omobility_id', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mob_partner_copies')),
    sa.UniqueConstraint('document', 'sending_hei_id', 'omobility_id', name=op.f('uq_mob_partner_copies_document'))
    )
    op.create_table('mob_la_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobility_pk', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('student_signature', sa.JSON(), nullable=False),
    sa.Column('sending_signature', sa.JSON(), nullable=False),
    sa.Column('receiving_signature', sa.JSON(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['mobility_pk'], ['mob_mobilities.id'],
                            name=op.f('fk_mob_la_versions_mobility_pk_mob_mobilities'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mob_la_versions')),
    sa.UniqueConstraint('proposal_id', 'mobility_pk', name=op.f('uq_mob_la_versions_proposal_id')),
    sa.UniqueConstraint('mobility_pk', 'seq', name=op.f('uq_mob_la_versions_mobility_pk'))
    )
    with op.batch_alter_table('mob_la_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mob_la_versions_mobility_pk'), ['mobility_pk'], unique=False)

    op.create_table('mob_la_components',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_pk', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('los_id', sa.String(length=64), nullable=True),
    sa.Column('los_code', sa.String(length=255), nullable=True),
    sa.Column('loi_id', sa.String(length=64), nullable=True),
    sa.Column('term_number', sa.SmallInteger(), nullable=True),
    sa.Column('total_terms', sa.SmallInteger(), nullable=True),
    sa.Column('credits', sa.JSON(), nullable=False),
    sa.Column('recognition_conditions', sa.Text(), nullable=True),
    sa.Column('short_description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('reason_text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['version_pk'], ['mob_la_versions.id'],
                            name=op.f('fk_mob_la_components_version_pk_mob_la_versions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mob_la_components')),
    sa.UniqueConstraint('version_pk', 'position', name=op.f('uq_mob_la_components_version_pk'))
    )
    with op.batch_alter_table('mob_la_components', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mob_la_components_version_pk'), ['version_pk'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mob_la_components', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mob_la_components_version_pk'))

    op.drop_table('mob_la_components')
    with op.batch_alter_table('mob_la_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mob_la_versions_mobility_pk'))

    op.drop_table('mob_la_versions')
    op.drop_table('mob_partner_copies')
    with op.batch_alter_table('mob_mobilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mob_mobilities_student_global_id'))
        batch_op.drop_index('ix_mob_mobilities_receiving')
        batch_op.drop_index('ix_mob_mobilities_modified')

    op.drop_table('mob_mobilities')
