"""teams: roles, reviewer matrix, targets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:55:31.529384
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('home_channel_id', sa.String(length=32), nullable=True),
    sa.Column('digest_channel_id', sa.String(length=32), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('work_days', sa.String(length=40), nullable=False),
    sa.Column('work_start', sa.String(length=5), nullable=False),
    sa.Column('work_end', sa.String(length=5), nullable=False),
    sa.Column('digest_time', sa.String(length=5), nullable=False),
    sa.Column('specializations', sa.JSON(), nullable=False),
    sa.Column('risk_bands', sa.JSON(), nullable=True),
    sa.Column('escalation_hours', sa.JSON(), nullable=True),
    sa.Column('incident_channels', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'home_channel_id', name='uq_team_home_channel'),
    sa.UniqueConstraint('workspace_id', 'name', name='uq_team_name')
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('reviewer',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('tier', sa.String(length=8), nullable=False),
    sa.Column('specializations', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('away_until', sa.Date(), nullable=True),
    sa.Column('last_assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id')
    )
    with op.batch_alter_table('reviewer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewer_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('team_role',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id', 'role')
    )
    with op.batch_alter_table('team_role', schema=None) as batch_op:
        batch_op.create_index('ix_team_role_user', ['workspace_id', 'user_id'], unique=False)

    op.create_table('team_target',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('kpi', sa.String(length=40), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('comparator', sa.String(length=1), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'kpi')
    )



def downgrade() -> None:
    
    op.drop_table('team_target')
    with op.batch_alter_table('team_role', schema=None) as batch_op:
        batch_op.drop_index('ix_team_role_user')

    op.drop_table('team_role')
    with op.batch_alter_table('reviewer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewer_workspace_id'))

    op.drop_table('reviewer')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_workspace_id'))

    op.drop_table('team')

