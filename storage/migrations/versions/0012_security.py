"""security: where a modal was opened from (kept server-side), CI idempotency keys

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-04 17:27:26.709846
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('modal_origin',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('response_url', sa.String(length=1000), nullable=True),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('modal_origin', schema=None) as batch_op:
        batch_op.create_index('ix_modal_origin_age', ['workspace_id', 'created_at'], unique=False)

    op.create_table('ci_idempotency_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'key', name='uq_ci_idempotency_key')
    )
    with op.batch_alter_table('ci_idempotency_key', schema=None) as batch_op:
        batch_op.create_index('ix_ci_idempotency_key_age', ['team_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ci_idempotency_key', schema=None) as batch_op:
        batch_op.drop_index('ix_ci_idempotency_key_age')

    op.drop_table('ci_idempotency_key')
    with op.batch_alter_table('modal_origin', schema=None) as batch_op:
        batch_op.drop_index('ix_modal_origin_age')

    op.drop_table('modal_origin')
