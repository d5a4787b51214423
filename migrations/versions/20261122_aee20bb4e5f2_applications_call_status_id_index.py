"""applications: the (call_id, status) index also holds the id

The per-call counts of the national dashboard and the ledger then read applications from the index
alone instead of scanning the table (issue 9, bench/RESULTS.md).

Revision ID: aee20bb4e5f2
Revises: 2662b7dcb398
Create Date: 2026-11-22 23:25:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'aee20bb4e5f2'
down_revision = '2662b7dcb398'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_call_status_id', ['call_id', 'status', 'id'], unique=False)
        batch_op.drop_index('ix_applications_call_status')


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_call_status', ['call_id', 'status'], unique=False)
        batch_op.drop_index('ix_applications_call_status_id')
