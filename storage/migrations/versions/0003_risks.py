"""risks: the register (QR-001, …) and its mitigation checklists

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:04:43.390059
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('risk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('review_by', sa.Date(), nullable=True),
    sa.Column('review_reminded_for', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('response', sa.String(length=16), nullable=True),
    sa.Column('closing_note', sa.Text(), nullable=True),
    sa.Column('closed_by', sa.String(length=32), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'number', name='uq_risk_number')
    )
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.create_index('ix_risk_owner', ['workspace_id', 'owner_id', 'status'], unique=False)
        batch_op.create_index('ix_risk_review_by', ['workspace_id', 'status', 'review_by'], unique=False)
        batch_op.create_index('ix_risk_team_closed', ['workspace_id', 'team_id', 'closed_at'], unique=False)
        batch_op.create_index('ix_risk_team_created', ['workspace_id', 'team_id', 'created_at'], unique=False)
        batch_op.create_index('ix_risk_team_status_score', ['workspace_id', 'team_id', 'status', 'score'], unique=False)

    op.create_table('risk_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=150), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('done_by', sa.String(length=32), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['risk_id'], ['risk.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('risk_action', schema=None) as batch_op:
        batch_op.create_index('ix_risk_action_risk', ['risk_id', 'position'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('risk_action', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_action_risk')

    op.drop_table('risk_action')
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_team_status_score')
        batch_op.drop_index('ix_risk_team_created')
        batch_op.drop_index('ix_risk_team_closed')
        batch_op.drop_index('ix_risk_review_by')
        batch_op.drop_index('ix_risk_owner')

    op.drop_table('risk')
