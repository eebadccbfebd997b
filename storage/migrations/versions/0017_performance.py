"""performance: the clock's incident sweeps read only pending rows (partial indexes), never the history

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 20:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('ix_incident_unplaced', ['workspace_id', 'declared_at'], unique=False,
                              sqlite_where=sa.text('channel_id IS NULL'),
                              postgresql_where=sa.text('channel_id IS NULL'))
        batch_op.create_index('ix_incident_review_pending', ['workspace_id', 'review_due_at'], unique=False,
                              sqlite_where=sa.text('review_reminded_at IS NULL'),
                              postgresql_where=sa.text('review_reminded_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_review_pending')
        batch_op.drop_index('ix_incident_unplaced')
