"""channel_pace: Slack's pace per channel, shared by every sender on the database (issue 13)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'channel_pace',
        sa.Column('workspace_id', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('next_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('workspace_id', 'channel'),
    )


def downgrade() -> None:
    op.drop_table('channel_pace')
