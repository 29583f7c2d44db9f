"""The office console: accounts, server-side sessions, its action log, the anonymous post-mobility survey.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('office_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('role', sa.Enum('viewer', 'officer', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('hei_ids', sa.JSON(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_users')),
    sa.UniqueConstraint('name', name=op.f('uq_office_users_name'))
    )
    op.create_table('office_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['office_users.id'], name=op.f('fk_office_sessions_user_id_office_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_office_sessions_token_hash'))
    )
    op.create_index('ix_office_sessions_expires_at', 'office_sessions', ['expires_at'], unique=False)
    op.create_table('office_survey_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_hei_id', sa.String(length=255), nullable=False),
    sa.Column('academic_year_id', sa.String(length=9), nullable=False),
    sa.Column('overall', sa.Integer(), nullable=False),
    sa.Column('courses', sa.Integer(), nullable=False),
    sa.Column('support', sa.Integer(), nullable=False),
    sa.Column('recommend', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.String(length=2000), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_survey_answers'))
    )
    op.create_index('ix_office_survey_answers_partner', 'office_survey_answers', ['partner_hei_id', 'academic_year_id'],
                    unique=False)
    op.create_table('office_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('outcome', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_actions'))
    )
    op.create_index('ix_office_actions_at', 'office_actions', ['at'], unique=False)
    op.create_table('office_survey_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobility_digest', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_survey_submissions')),
    sa.UniqueConstraint('mobility_digest', name=op.f('uq_office_survey_submissions_mobility_digest'))
    )


def downgrade() -> None:
    op.drop_table('office_survey_submissions')
    op.drop_index('ix_office_actions_at', table_name='office_actions')
    op.drop_table('office_actions')
    op.drop_index('ix_office_survey_answers_partner', table_name='office_survey_answers')
    op.drop_table('office_survey_answers')
    op.drop_index('ix_office_sessions_expires_at', table_name='office_sessions')
    op.drop_table('office_sessions')
    op.drop_table('office_users')
