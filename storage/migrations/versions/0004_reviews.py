"""reviews: review requests and their reviewer assignments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:15:38.034359
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('specialization', sa.String(length=80), nullable=False),
    sa.Column('size', sa.String(length=1), nullable=False),
    sa.Column('needed_by', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stalled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('turnaround_seconds', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'number', name='uq_review_request_number')
    )
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.create_index('ix_review_request_author', ['workspace_id', 'author_id', 'status'], unique=False)
        batch_op.create_index('ix_review_request_team_created', ['workspace_id', 'team_id', 'created_at'], unique=False)
        batch_op.create_index('ix_review_request_team_done', ['workspace_id', 'team_id', 'done_at'], unique=False)
        batch_op.create_index('ix_review_request_team_status', ['workspace_id', 'team_id', 'status'], unique=False)

    op.create_table('review_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('tier', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('accept_nudged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_nudged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('turnaround_seconds', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['review_request.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_assignment_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_review_assignment_reviewer', ['workspace_id', 'reviewer_id', 'status'], unique=False)
        batch_op.create_index('ix_review_assignment_team_assigned', ['workspace_id', 'team_id', 'assigned_at'], unique=False)
        batch_op.create_index('ix_review_assignment_team_done', ['workspace_id', 'team_id', 'done_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_review_assignment_team_done')
        batch_op.drop_index('ix_review_assignment_team_assigned')
        batch_op.drop_index('ix_review_assignment_reviewer')
        batch_op.drop_index(batch_op.f('ix_review_assignment_request_id'))

    op.drop_table('review_assignment')
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.drop_index('ix_review_request_team_status')
        batch_op.drop_index('ix_review_request_team_done')
        batch_op.drop_index('ix_review_request_team_created')
        batch_op.drop_index('ix_review_request_author')

    op.drop_table('review_request')
