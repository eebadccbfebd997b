"""daily use 2: held reminders can wait (a snooze, a person's quiet hours) and know their team;
each person's own quiet hours

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('held_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('snoozable', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
    op.create_table('person_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'user_id', name='uq_person_setting')
    )


def downgrade() -> None:
    op.drop_table('person_setting')
    with op.batch_alter_table('held_message', schema=None) as batch_op:
        batch_op.drop_column('not_before')
        batch_op.drop_column('snoozable')
        batch_op.drop_column('team_id')
