"""hardening: login throttle per client and address, operator session and user token generations

Revision ID: 7c1e5a9d2b40
Revises: 295515ef939c
Create Date: 2026-12-07 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = '7c1e5a9d2b40'
down_revision = '295515ef939c'
branch_labels = None
depends_on = None


def upgrade():
    # Failed-login counts are transient: the table is rebuilt keyed by client and address.
    op.drop_table('login_throttle')
    op.create_table('login_throttle',
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=256), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', models.base.UTCDateTime(), nullable=False),
    sa.Column('locked_until', models.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('client', 'email', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_window_start'), ['window_start'], unique=False)
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('token_generation')
    with op.batch_alter_table('operators', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_window_start'))
    op.drop_table('login_throttle')
    op.create_table('login_throttle',
    sa.Column('email', sa.String(length=256), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', models.base.UTCDateTime(), nullable=False),
    sa.Column('locked_until', models.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_login_throttle'))
    )
