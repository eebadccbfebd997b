"""daily use: messages held so that one sweep sends one message per person and kind

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('held_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_key', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('held_message', schema=None) as batch_op:
        batch_op.create_index('ix_held_message_unreleased', ['released_key', 'person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('held_message', schema=None) as batch_op:
        batch_op.drop_index('ix_held_message_unreleased')
    op.drop_table('held_message')
