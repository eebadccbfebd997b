"""dashboard indexes: the overview's 8-week figures of every team read from covering indexes (DoR/DoD
checks, finished reviews and their ratings by team and time), and reviewer utilization over a period
reads the reviews open in it from covering indexes (assigned in it, or before it and ended after its
start or still open) instead of reading every review assigned before its end

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 07:10:00
"""

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('item_check', schema=None) as batch_op:
        batch_op.create_index('ix_item_check_team_time', ['workspace_id', 'team_id', 'checked_at', 'kind', 'passed',
                                                          'minutes'], unique=False)
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.drop_index('ix_review_request_team_done')
        batch_op.create_index('ix_review_request_team_done', ['workspace_id', 'team_id', 'done_at', 'status',
                                                              'turnaround_seconds'], unique=False)
    with op.batch_alter_table('review_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_review_assignment_team_done')
        batch_op.create_index('ix_review_assignment_team_done', ['workspace_id', 'team_id', 'done_at', 'status',
                                                                 'rating'], unique=False)
        batch_op.drop_index('ix_review_assignment_team_assigned')
        batch_op.create_index('ix_review_assignment_team_assigned', ['workspace_id', 'team_id', 'assigned_at',
                                                                     'ended_at', 'reviewer_id'], unique=False)
        batch_op.create_index('ix_review_assignment_team_ended', ['workspace_id', 'team_id', 'ended_at',
                                                                  'assigned_at', 'reviewer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_review_assignment_team_ended')
        batch_op.drop_index('ix_review_assignment_team_assigned')
        batch_op.create_index('ix_review_assignment_team_assigned', ['workspace_id', 'team_id', 'assigned_at'],
                              unique=False)
        batch_op.drop_index('ix_review_assignment_team_done')
        batch_op.create_index('ix_review_assignment_team_done', ['workspace_id', 'team_id', 'done_at'], unique=False)
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.drop_index('ix_review_request_team_done')
        batch_op.create_index('ix_review_request_team_done', ['workspace_id', 'team_id', 'done_at'], unique=False)
    with op.batch_alter_table('item_check', schema=None) as batch_op:
        batch_op.drop_index('ix_item_check_team_time')
