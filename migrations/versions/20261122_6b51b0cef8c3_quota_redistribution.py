"""quota redistribution

Revision ID: 6b51b0cef8c3
Revises: d04e178701d6
Create Date: 2026-11-22 11:43:10.872086

A round's unused quota can be redistributed at round close among the municipalities with reserve-list
projects (DESIGN §3.4): `quotas.redistributed_in`, counted in the quota's total and never negative.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6b51b0cef8c3'
down_revision = 'd04e178701d6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redistributed_in', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_constraint(batch_op.f('ck_quotas_counts_not_negative'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_quotas_counts_not_negative'),
            'quota >= 0 AND computed_quota >= 0 AND carried_in >= 0 AND redistributed_in >= 0',
        )


def downgrade():
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_quotas_counts_not_negative'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_quotas_counts_not_negative'),
            'quota >= 0 AND computed_quota >= 0 AND carried_in >= 0',
        )
        batch_op.drop_column('redistributed_in')
