"""pull requests: webhook connections, repositories, rules, login links, deliveries, pull request links;
review requests follow a pull request (paused, merged, changes requested, named reviewers)

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-04 15:59:09.615771
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_link',
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('login', sa.String(length=100), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('linked_by', sa.String(length=64), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('workspace_id', 'provider', 'login')
    )
    with op.batch_alter_table('login_link', schema=None) as batch_op:
        batch_op.create_index('ix_login_link_user', ['workspace_id', 'user_id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('delivery_id', sa.String(length=100), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'delivery_id')
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_delivery_received_at'), ['received_at'], unique=False)

    op.create_table('pr_repository',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'provider', 'name', name='uq_pr_repository_name')
    )
    with op.batch_alter_table('pr_repository', schema=None) as batch_op:
        batch_op.create_index('ix_pr_repository_team', ['workspace_id', 'team_id'], unique=False)

    op.create_table('pr_rules',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('paths', sa.JSON(), nullable=False),
    sa.Column('gates', sa.JSON(), nullable=False),
    sa.Column('default_specialization', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id')
    )
    op.create_table('webhook_connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_delivery_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash'),
    sa.UniqueConstraint('team_id', 'provider', name='uq_webhook_connection_team')
    )
    op.create_table('pull_request_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('repository', sa.String(length=255), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('author_login', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['review_request.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'provider', 'repository', 'number', name='uq_pull_request')
    )
    with op.batch_alter_table('pull_request_link', schema=None) as batch_op:
        batch_op.create_index('ix_pull_request_link_author', ['workspace_id', 'provider', 'author_login'], unique=False)
        batch_op.create_index('ix_pull_request_link_request', ['workspace_id', 'request_id'], unique=False)

    with op.batch_alter_table('review_assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_on', sa.String(length=16), nullable=True))

    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('changes_requested_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('changes_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('author_id',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.String(length=64),
               existing_nullable=False)



def downgrade() -> None:
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.alter_column('author_id',
               existing_type=sa.String(length=64),
               type_=sa.VARCHAR(length=32),
               existing_nullable=False)
        batch_op.drop_column('changes_requested_at')
        batch_op.drop_column('changes_requested_by')
        batch_op.drop_column('merged_at')
        batch_op.drop_column('paused_at')

    with op.batch_alter_table('review_assignment', schema=None) as batch_op:
        batch_op.drop_column('requested_on')

    with op.batch_alter_table('pull_request_link', schema=None) as batch_op:
        batch_op.drop_index('ix_pull_request_link_request')
        batch_op.drop_index('ix_pull_request_link_author')

    op.drop_table('pull_request_link')
    op.drop_table('webhook_connection')
    op.drop_table('pr_rules')
    with op.batch_alter_table('pr_repository', schema=None) as batch_op:
        batch_op.drop_index('ix_pr_repository_team')

    op.drop_table('pr_repository')
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_received_at'))

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('login_link', schema=None) as batch_op:
        batch_op.drop_index('ix_login_link_user')

    op.drop_table('login_link')
