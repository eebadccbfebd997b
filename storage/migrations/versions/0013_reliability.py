"""reliability: outbox rows carry their channel and priority (fair, paced delivery)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='100'))
        batch_op.create_index('ix_outbox_message_lane', ['status', 'channel', 'priority', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_lane')
        batch_op.drop_column('priority')
        batch_op.drop_column('channel')
