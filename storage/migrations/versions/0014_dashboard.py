"""dashboard: single-use sign-in links and web sessions; daily totals of gate results (backfilled)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dashboard_link',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('sees_all', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('dashboard_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_link_expires_at'), ['expires_at'], unique=False)
    op.create_table('dashboard_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('sees_all', sa.Boolean(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('dashboard_session', schema=None) as batch_op:
        batch_op.create_index('ix_dashboard_session_expiry', ['expires_at'], unique=False)


    op.create_table('gate_day',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('gate', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('value_total', sa.Float(), nullable=False),
    sa.Column('valued', sa.Integer(), nullable=False),
    sa.Column('seconds_total', sa.Float(), nullable=False),
    sa.Column('timed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'gate', 'day')
    )
    with op.batch_alter_table('gate_day', schema=None) as batch_op:
        batch_op.create_index('ix_gate_day_team_day', ['workspace_id', 'team_id', 'day'], unique=False)
    # Backfill: the totals of every gate result stored so far, by its UTC day.
    day = ("date(happened_at)" if op.get_bind().dialect.name == "sqlite"
           else "CAST(happened_at AT TIME ZONE 'UTC' AS date)")
    op.execute(f"""
        INSERT INTO gate_day (team_id, gate, day, workspace_id, runs, passed, value_total, valued, seconds_total, timed)
        SELECT team_id, gate, {day}, MIN(workspace_id), COUNT(*),
               SUM(CASE WHEN passed THEN 1 ELSE 0 END), COALESCE(SUM(value), 0), COUNT(value),
               COALESCE(SUM(duration_seconds), 0), COUNT(duration_seconds)
        FROM gate_result GROUP BY team_id, gate, {day}
    """)


def downgrade() -> None:
    with op.batch_alter_table('gate_day', schema=None) as batch_op:
        batch_op.drop_index('ix_gate_day_team_day')
    op.drop_table('gate_day')
    with op.batch_alter_table('dashboard_session', schema=None) as batch_op:
        batch_op.drop_index('ix_dashboard_session_expiry')
    op.drop_table('dashboard_session')
    with op.batch_alter_table('dashboard_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dashboard_link_expires_at'))
    op.drop_table('dashboard_link')
